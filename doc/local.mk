# doc/ -- the manual and the references (Markdown, installed in $(docdir)
# with their images in $(docdir)/img, where the pages' img/ links point),
# the sweep example they cite, and the man page.
dist_man_MANS = doc/spikemesh.1
dist_doc_DATA += doc/manual.md doc/config.md doc/core.md doc/design.md \
	doc/energy.md doc/hardening.md doc/kernel.md doc/mapping.md \
	doc/model-format.md \
	doc/noc.md doc/recorder.md doc/scaleout.md doc/sweep.md doc/trainer.md \
	doc/sweep-mlp16.json doc/sweep-mapping.json doc/mapping-table.sql
imgdir = $(docdir)/img
dist_img_DATA = doc/img/raster.png doc/img/inactive.png doc/img/links.png \
	doc/img/blocked.png doc/img/cores.png doc/img/energy.png \
	doc/img/energy-dist.png doc/img/latency.png doc/img/noc.png \
	doc/img/pareto.png doc/img/sweep-links.png doc/img/sweep-pareto.png \
	doc/img/mapping-links.png
# what doc/img/sweep-pareto.png is drawn from
EXTRA_DIST += doc/img/sweep-pareto.dat doc/img/sweep-pareto.gp
