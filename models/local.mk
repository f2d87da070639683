# models/ -- the model file (load, validate, save) and shipped models.
noinst_LIBRARIES += models/libsmmodels.a
models_libsmmodels_a_SOURCES = models/model.h models/model.c
EXTRA_DIST += models/fmnist-mlp.json models/fmnist-cnn.json
