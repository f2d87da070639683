# trainer/ -- the DTA-TTFS trainer (IDX data, layers, ANN/SNN/QAT, export).
noinst_LIBRARIES += trainer/libsmtrainer.a
trainer_libsmtrainer_a_SOURCES = trainer/train.h trainer/train-int.h \
	trainer/net.c trainer/arch.c trainer/idx.c trainer/train.c \
	trainer/export.c trainer/eval.c
