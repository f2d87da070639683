/*
 * idx.c -- IDX files (the MNIST family's format), plain or gzipped.
 *
 * Layout: magic 0x00 0x00 <type> <ndims>, ndims big-endian uint32 sizes,
 * then the data.  Only type 0x08 (unsigned byte) is accepted: images and
 * labels are bytes in every data set this trainer targets.  zlib's gzread
 * reads plain files transparently, so one path handles both.  The whole
 * file is read, then checked: exact size (trailing bytes are an error, a
 * short file names how many bytes are missing).  Cost: one pass, one copy.
 */
#include "trainer/train.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_MAX_BYTES ((size_t)1 << 32) /* 4 GiB of decoded data */

void train_idx_free(struct train_idx *idx) {
  if (!idx)
    return;
  free(idx->data);
  memset(idx, 0, sizeof *idx);
}

int train_idx_load(const char *path, struct train_idx *out,
                   struct sm_err *err) {
  memset(out, 0, sizeof *out);
  gzFile f = gzopen(path, "rb");
  if (!f)
    return sm_fail(err, errno == ENOENT ? SM_ENOENT : SM_EIO,
                   "%s: cannot open: %s", path,
                   errno ? strerror(errno) : "out of memory");
  unsigned char hdr[4 + 16];
  int got = gzread(f, hdr, 4);
  int rc = 0;
  if (got < 0) {
    int zerr;
    const char *m = gzerror(f, &zerr);
    rc = sm_fail(err, SM_EFORMAT, "%s: corrupt compressed data: %s", path, m);
    goto out;
  }
  if (got < 4) {
    rc = sm_fail(err, SM_EFORMAT,
                 "%s: truncated: %d bytes, an IDX header needs at least 4",
                 path, got);
    goto out;
  }
  if (hdr[0] || hdr[1]) {
    rc = sm_fail(err, SM_EFORMAT,
                 "%s: bad magic %02x %02x %02x %02x: an IDX file starts with "
                 "00 00 <type> <ndims>",
                 path, hdr[0], hdr[1], hdr[2], hdr[3]);
    goto out;
  }
  if (hdr[2] != 0x08) {
    rc = sm_fail(err, SM_EFORMAT,
                 "%s: data type 0x%02x: only unsigned bytes (0x08) are "
                 "supported",
                 path, hdr[2]);
    goto out;
  }
  int nd = hdr[3];
  if (nd < 1 || nd > 4) {
    rc = sm_fail(err, SM_EFORMAT,
                 "%s: %d dimensions in the magic: expected 1 to 4", path, nd);
    goto out;
  }
  got = gzread(f, hdr + 4, (unsigned)(4 * nd));
  if (got != 4 * nd) {
    rc = sm_fail(err, SM_EFORMAT,
                 "%s: truncated header: %d dimension sizes announced, file "
                 "ends after %d bytes of them",
                 path, nd, got < 0 ? 0 : got);
    goto out;
  }
  size_t size = 1;
  out->ndims = nd;
  for (int i = 0; i < nd; i++) {
    const unsigned char *b = hdr + 4 + 4 * i;
    uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                 (uint32_t)b[2] << 8 | b[3];
    if (!v) {
      rc = sm_fail(err, SM_EFORMAT, "%s: dimension %d is 0", path, i);
      goto out;
    }
    out->dims[i] = v;
    if (size > IDX_MAX_BYTES / v) {
      rc = sm_fail(err, SM_ELIMIT,
                   "%s: dimensions multiply to more than %zu bytes", path,
                   IDX_MAX_BYTES);
      goto out;
    }
    size *= v;
  }
  out->size = size;
  /* The header is not trusted with memory: the buffer grows as data
   * arrives (doubling from 1 MiB), so a short file that announces
   * gigabytes fails as truncated without allocating them. */
  size_t cap = size < ((size_t)1 << 20) ? size : ((size_t)1 << 20);
  out->data = sm_xmalloc(cap ? cap : 1);
  size_t have = 0;
  while (have < size) {
    if (have == cap) {
      cap = cap * 2 < size ? cap * 2 : size;
      out->data = sm_xrealloc(out->data, cap);
    }
    unsigned chunk = (cap - have) > (1u << 30) ? (1u << 30)
                                               : (unsigned)(cap - have);
    int r = gzread(f, out->data + have, chunk);
    if (r < 0) {
      int zerr;
      const char *m = gzerror(f, &zerr);
      rc = sm_fail(err, SM_EFORMAT, "%s: corrupt compressed data: %s", path,
                   m);
      goto out;
    }
    if (r == 0)
      break;
    have += (size_t)r;
  }
  if (have < size) {
    int zerr = 0;
    const char *m = gzerror(f, &zerr);
    rc = sm_fail(err, SM_EFORMAT,
                 "%s: truncated: the header announces %zu data bytes, the "
                 "file holds %zu%s%s",
                 path, size, have, zerr ? ": " : "", zerr ? m : "");
    goto out;
  }
  unsigned char extra;
  int r = gzread(f, &extra, 1);
  if (r != 0) {
    rc = sm_fail(err, SM_EFORMAT,
                 r < 0 ? "%s: corrupt compressed data after the payload"
                       : "%s: trailing bytes after the %zu data bytes the "
                         "header announces",
                 path, size);
    goto out;
  }
out:
  gzclose(f);
  if (rc)
    train_idx_free(out);
  return rc;
}

void train_data_free(struct train_data *d) {
  if (!d)
    return;
  free(d->images);
  free(d->labels);
  memset(d, 0, sizeof *d);
}

int train_data_load(const char *images, const char *labels,
                    struct train_data *out, struct sm_err *err) {
  memset(out, 0, sizeof *out);
  struct train_idx im, lb;
  int rc = train_idx_load(images, &im, err);
  if (rc)
    return rc;
  rc = train_idx_load(labels, &lb, err);
  if (rc) {
    train_idx_free(&im);
    return rc;
  }
  if (im.ndims != 3 && im.ndims != 4) {
    rc = sm_fail(err, SM_EFORMAT,
                 "%s: images need 3 (n x h x w) or 4 (n x c x h x w) "
                 "dimensions, the file has %d",
                 images, im.ndims);
    goto fail;
  }
  if (lb.ndims != 1) {
    rc = sm_fail(err, SM_EFORMAT,
                 "%s: labels need 1 dimension, the file has %d", labels,
                 lb.ndims);
    goto fail;
  }
  if (lb.dims[0] != im.dims[0]) {
    rc = sm_fail(err, SM_EFORMAT,
                 "%s: %u labels, but %s holds %u images", labels, lb.dims[0],
                 images, im.dims[0]);
    goto fail;
  }
  for (int i = 1; i < im.ndims; i++)
    if (im.dims[i] > TRAIN_MAX_IMAGE_DIM) {
      rc = sm_fail(err, SM_ELIMIT,
                   "%s: dimension %d is %u: an image's channels, rows and "
                   "columns are at most %d each",
                   images, i, im.dims[i], TRAIN_MAX_IMAGE_DIM);
      goto fail;
    }
  int maxl = 0;
  for (size_t i = 0; i < lb.size; i++)
    maxl = lb.data[i] > maxl ? lb.data[i] : maxl;
  out->n = im.dims[0];
  out->c = im.ndims == 4 ? (int)im.dims[1] : 1;
  out->h = (int)im.dims[im.ndims - 2];
  out->w = (int)im.dims[im.ndims - 1];
  out->a_max = 255.0;
  out->nclasses = maxl + 1;
  out->images = im.data;
  out->labels = lb.data;
  return 0;
fail:
  train_idx_free(&im);
  train_idx_free(&lb);
  return rc;
}

/* "<dir>/<stem>.gz" if it exists, else "<dir>/<stem>". */
static void pick(char *buf, size_t len, const char *dir, const char *stem) {
  snprintf(buf, len, "%s/%s.gz", dir, stem);
  FILE *f = fopen(buf, "rb");
  if (f) {
    fclose(f);
    return;
  }
  snprintf(buf, len, "%s/%s", dir, stem);
}

int train_data_load_dir(const char *dir, int test, struct train_data *out,
                        struct sm_err *err) {
  char im[1200], lb[1200];
  const char *pre = test ? "t10k" : "train";
  char stem[64];
  snprintf(stem, sizeof stem, "%s-images-idx3-ubyte", pre);
  pick(im, sizeof im, dir, stem);
  snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", pre);
  pick(lb, sizeof lb, dir, stem);
  return train_data_load(im, lb, out, err);
}
