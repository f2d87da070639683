# doc/ -- the manual (Markdown, with example plots) and the man page.
dist_man_MANS = doc/spikemesh.1
dist_doc_DATA += doc/manual.md
EXTRA_DIST += doc/img/raster.png doc/img/inactive.png doc/img/links.png \
	doc/img/blocked.png doc/img/cores.png doc/img/energy.png \
	doc/img/energy-dist.png doc/img/latency.png doc/img/noc.png \
	doc/img/pareto.png
