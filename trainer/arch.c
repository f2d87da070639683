/*
 * arch.c -- compact architecture strings: "784-800-10",
 * "28x28-16C5-P2-32C5-P2-800-128-10".
 *
 * Tokens are separated by '-'.  The first is the input shape ("784" flat,
 * "28x28" one channel, "3x32x32" C x H x W); then "N" dense, "NCk" conv
 * with valid padding, "NCks" conv with same padding (odd k), "Pk" max
 * pooling (window = stride = k, must divide the map, directly after a
 * conv layer: the cores fuse it into that layer), "F" flatten.  A
 * dense layer after conv/pool gets an explicit flatten in front, so the
 * model file reads the way the data flows.  Shapes are chained here and
 * every fault names the token, its position and what was expected.
 */
#include "trainer/train.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define ARCH_MAX_DIM 100000

/* Parse a positive decimal at *p, advancing it; -1 if none or too big. */
static long parse_num(const char **p) {
  const char *s = *p;
  if (!isdigit((unsigned char)*s))
    return -1;
  long v = 0;
  while (isdigit((unsigned char)*s)) {
    v = v * 10 + (*s - '0');
    if (v > ARCH_MAX_DIM)
      return -1;
    s++;
  }
  *p = s;
  return v;
}

static int add_layer(struct train_arch *a, const char *tok, int pos,
                     struct sm_err *err) {
  if (a->nlayers >= SM_ARRAY_LEN(a->layers))
    return sm_fail(err, SM_ELIMIT,
                   "architecture: token %d '%s': more than %zu layers", pos,
                   tok, SM_ARRAY_LEN(a->layers));
  return 0;
}

int train_arch_parse(const char *s, int img_c, int img_h, int img_w,
                     struct train_arch *a, struct sm_err *err) {
  memset(a, 0, sizeof *a);
  if (!s || !*s)
    return sm_fail(err, SM_EINVAL, "architecture: empty string, expected "
                                   "e.g. '784-800-10'");
  if (strlen(s) >= 256)
    return sm_fail(err, SM_ELIMIT,
                   "architecture: longer than 255 characters");
  char buf[256];
  strcpy(buf, s);
  int pos = 0;
  int c = 0, h = 0, w = 0, flat = 0;
  char *save = NULL;
  const char *expect =
      "expected N (dense), NCk or NCks (conv), Pk (pool) or F (flatten)";
  /* empty tokens ("784--10", trailing '-') are caught by counting */
  for (const char *q = s; *q; q++)
    if (*q == '-' && (q == s || q[1] == '-' || q[1] == 0))
      return sm_fail(err, SM_EINVAL,
                     "architecture '%s': empty token at character %d", s,
                     (int)(q - s) + 1);
  for (char *tok = strtok_r(buf, "-", &save); tok;
       tok = strtok_r(NULL, "-", &save), pos++) {
    const char *p = tok;
    if (pos == 0) {
      long d[3];
      int nd = 0;
      for (;;) {
        long v = parse_num(&p);
        if (v <= 0 || nd == 3)
          return sm_fail(err, SM_EINVAL,
                         "architecture '%s': input token '%s': expected N, "
                         "HxW or CxHxW with positive sizes <= %d",
                         s, tok, ARCH_MAX_DIM);
        d[nd++] = v;
        if (*p == 'x' || *p == 'X') {
          p++;
          continue;
        }
        if (*p)
          return sm_fail(err, SM_EINVAL,
                         "architecture '%s': input token '%s': expected N, "
                         "HxW or CxHxW",
                         s, tok);
        break;
      }
      if (nd == 1) {
        flat = 1;
        a->flat_input = 1;
        if (img_c && (long)img_c * img_h * img_w != d[0])
          return sm_fail(err, SM_EINVAL,
                         "architecture '%s': input '%s' has %ld values but "
                         "the data's images have %ld (%dx%dx%d)",
                         s, tok, d[0], (long)img_c * img_h * img_w, img_c,
                         img_h, img_w);
        if (img_c) {
          c = img_c;
          h = img_h;
          w = img_w;
        } else {
          c = (int)d[0];
          h = w = 1;
        }
      } else {
        c = nd == 3 ? (int)d[0] : 1;
        h = (int)d[nd - 2];
        w = (int)d[nd - 1];
        if ((long)c * h * w > 10000000)
          return sm_fail(err, SM_ELIMIT,
                         "architecture '%s': input '%s' too large", s, tok);
        if (img_c && (c != img_c || h != img_h || w != img_w))
          return sm_fail(err, SM_EINVAL,
                         "architecture '%s': input '%s' is %dx%dx%d but the "
                         "data's images are %dx%dx%d",
                         s, tok, c, h, w, img_c, img_h, img_w);
      }
      a->in_c = c;
      a->in_h = h;
      a->in_w = w;
      continue;
    }
    int rc = add_layer(a, tok, pos, err);
    if (rc)
      return rc;
    struct model_layer *L = &a->layers[a->nlayers];
    memset(L, 0, sizeof *L);
    L->in_c = c;
    L->in_h = h;
    L->in_w = w;
    if (*p == 'P' || *p == 'p') {
      p++;
      long k = parse_num(&p);
      if (k < 1 || *p)
        return sm_fail(err, SM_EINVAL,
                       "architecture '%s': token %d '%s': expected Pk with a "
                       "window k >= 1",
                       s, pos, tok);
      if (flat)
        return sm_fail(err, SM_EINVAL,
                       "architecture '%s': token %d '%s': pooling needs a "
                       "2-D map, but the input here is flat (%d values)",
                       s, pos, tok, c * h * w);
      if (!a->nlayers || a->layers[a->nlayers - 1].type != MODEL_CONV)
        return sm_fail(err, SM_EINVAL,
                       "architecture '%s': token %d '%s': a pool layer must "
                       "follow a dense or conv layer directly (the cores "
                       "fuse it into that layer; %s)",
                       s, pos, tok,
                       a->nlayers ? "two pools in a row do not map"
                                  : "pool the images themselves instead");
      if (h % k || w % k)
        return sm_fail(err, SM_EINVAL,
                       "architecture '%s': token %d '%s': window %ld does not "
                       "divide the %dx%d map",
                       s, pos, tok, k, h, w);
      L->type = MODEL_POOL;
      L->kernel = L->stride = (int)k;
      L->out_c = c;
      L->out_h = h / (int)k;
      L->out_w = w / (int)k;
    } else if ((*p == 'F' || *p == 'f') && !p[1]) {
      L->type = MODEL_FLATTEN;
      L->out_c = c * h * w;
      L->out_h = L->out_w = 1;
      flat = 1;
    } else {
      long nout = parse_num(&p);
      if (nout < 1)
        return sm_fail(err, SM_EINVAL, "architecture '%s': token %d '%s': %s",
                       s, pos, tok, expect);
      if (*p == 'C' || *p == 'c') {
        p++;
        long k = parse_num(&p);
        int same = 0;
        if (*p == 's' || *p == 'S') {
          same = 1;
          p++;
        }
        if (k < 1 || *p)
          return sm_fail(err, SM_EINVAL,
                         "architecture '%s': token %d '%s': expected NCk or "
                         "NCks with a kernel k >= 1",
                         s, pos, tok);
        if (flat)
          return sm_fail(err, SM_EINVAL,
                         "architecture '%s': token %d '%s': convolution needs "
                         "a 2-D map, but the input here is flat",
                         s, pos, tok);
        if (same && k % 2 == 0)
          return sm_fail(err, SM_EINVAL,
                         "architecture '%s': token %d '%s': same padding "
                         "needs an odd kernel",
                         s, pos, tok);
        if (!same && (k > h || k > w))
          return sm_fail(err, SM_EINVAL,
                         "architecture '%s': token %d '%s': kernel %ld is "
                         "larger than the %dx%d map",
                         s, pos, tok, k, h, w);
        uint64_t oh = same ? (uint64_t)h : (uint64_t)(h - k + 1),
                 ow = same ? (uint64_t)w : (uint64_t)(w - k + 1),
                 neurons = (uint64_t)nout * oh * ow;
        if (neurons > MODEL_MAX_NEURONS)
          return sm_fail(err, SM_ELIMIT,
                         "architecture '%s': token %d '%s': %ldx%llux%llu = "
                         "%llu neurons exceed the limit of %llu per layer",
                         s, pos, tok, nout, (unsigned long long)oh,
                         (unsigned long long)ow, (unsigned long long)neurons,
                         (unsigned long long)MODEL_MAX_NEURONS);
        L->type = MODEL_CONV;
        L->kernel = (int)k;
        L->stride = 1;
        L->pad = same ? (int)k / 2 : 0;
        L->out_c = (int)nout;
        L->out_h = same ? h : h - (int)k + 1;
        L->out_w = same ? w : w - (int)k + 1;
        L->nweights = (size_t)nout * c * k * k;
      } else if (*p) {
        return sm_fail(err, SM_EINVAL, "architecture '%s': token %d '%s': %s",
                       s, pos, tok, expect);
      } else {
        if (!flat && (h > 1 || w > 1)) {
          /* dense after a map: make the flatten explicit */
          L->type = MODEL_FLATTEN;
          L->out_c = c * h * w;
          L->out_h = L->out_w = 1;
          a->nlayers++;
          if ((rc = add_layer(a, tok, pos, err)))
            return rc;
          L = &a->layers[a->nlayers];
          memset(L, 0, sizeof *L);
          c = c * h * w;
          h = w = 1;
          L->in_c = c;
          L->in_h = 1;
          L->in_w = 1;
        }
        L->type = MODEL_DENSE;
        L->out_c = (int)nout;
        L->out_h = L->out_w = 1;
        L->nweights = (size_t)nout * c * h * w;
        flat = 1;
      }
    }
    if (L->nweights > 100000000)
      return sm_fail(err, SM_ELIMIT,
                     "architecture '%s': token %d '%s': %zu weights exceed "
                     "the limit of 1e8",
                     s, pos, tok, L->nweights);
    c = L->out_c;
    h = L->out_h;
    w = L->out_w;
    a->nlayers++;
  }
  if (!a->nlayers)
    return sm_fail(err, SM_EINVAL,
                   "architecture '%s': no layers after the input", s);
  const struct model_layer *last = &a->layers[a->nlayers - 1];
  if (last->type != MODEL_DENSE && last->type != MODEL_CONV)
    return sm_fail(err, SM_EINVAL,
                   "architecture '%s': the last layer must be dense or conv "
                   "(the output neurons)",
                   s);
  if (model_layer_neurons(last) < 2)
    return sm_fail(err, SM_EINVAL,
                   "architecture '%s': the output layer needs >= 2 neurons", s);
  return 0;
}
