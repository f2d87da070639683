/*
 * file.c -- the one way the program writes an output file (see util.h):
 * trace files, model files, plot scripts and data.
 *
 * A regular file is replaced atomically: the contents go to a temporary
 * file created beside the real target (O_EXCL, so an existing file of that
 * name is never reused or followed), which is flushed, fsync'ed and renamed
 * over the target; a failure removes the temporary and leaves the target as
 * it was.  A symbolic link is followed to its target (also a dangling one:
 * the target is created), so the link stays a link.  An existing FIFO or
 * character device (/dev/null, /dev/stdout on a terminal or a pipe) is
 * opened for writing as it is, never replaced; a block device or a
 * directory is refused.
 *
 * Rejected: renaming PATH.tmp over PATH as given (it replaced links,
 * FIFOs and device nodes by regular files); refusing every non-regular
 * target (writing to /dev/stdout or a FIFO is what a user asks for).
 */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SM_LINK_HOPS 40 /* symbolic links followed, as the kernel does */

static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return sm_xstrdup(".");
  if (slash == path)
    return sm_xstrdup("/");
  size_t n = (size_t)(slash - path);
  char *d = sm_xmalloc(n + 1);
  memcpy(d, path, n);
  d[n] = '\0';
  return d;
}

/* Follow the symbolic links of path (the last component) to the name that
 * is not a link: an existing file (*exists = 1, *st its lstat) or a name to
 * create (*exists = 0).  Returns the name (caller frees) or NULL with err
 * filled. */
static char *resolve_links(const char *path, struct stat *st, int *exists,
                           struct sm_err *err) {
  char *cur = sm_xstrdup(path);
  for (int hop = 0;; hop++) {
    if (lstat(cur, st) != 0) {
      if (errno == ENOENT) {
        *exists = 0;
        return cur;
      }
      sm_fail(err, SM_EIO, "%s: cannot write: %s", path, strerror(errno));
      free(cur);
      return NULL;
    }
    if (!S_ISLNK(st->st_mode)) {
      *exists = 1;
      return cur;
    }
    if (hop == SM_LINK_HOPS) {
      sm_fail(err, SM_EIO, "%s: cannot write: more than %d symbolic links",
              path, SM_LINK_HOPS);
      free(cur);
      return NULL;
    }
    char link[PATH_MAX];
    ssize_t n = readlink(cur, link, sizeof link - 1);
    if (n < 0) {
      sm_fail(err, SM_EIO, "%s: cannot read the symbolic link %s: %s", path,
              cur, strerror(errno));
      free(cur);
      return NULL;
    }
    link[n] = '\0';
    char *next;
    if (link[0] == '/') {
      next = sm_xstrdup(link);
    } else {
      char *d = dir_of(cur);
      size_t len = strlen(d) + 1 + (size_t)n + 1;
      next = sm_xmalloc(len);
      snprintf(next, len, "%s/%s", d, link);
      free(d);
    }
    free(cur);
    cur = next;
  }
}

/* Write in place: open the existing object path names (FIFO, character
 * device, or a file only reachable through it) without creating or
 * replacing anything. */
static int open_in_place(struct sm_write *w, int flags, struct sm_err *err) {
  int fd = open(w->path, O_WRONLY | O_NOCTTY | O_CLOEXEC | flags);
  if (fd < 0)
    return sm_fail(err, SM_EIO, "%s: cannot open for writing: %s", w->path,
                   strerror(errno));
  w->fp = fdopen(fd, "wb");
  if (!w->fp) {
    close(fd);
    return sm_fail(err, SM_EIO, "%s: cannot write: %s", w->path,
                   strerror(errno));
  }
  w->target = sm_xstrdup(w->path);
  return 0;
}

int sm_write_begin(struct sm_write *w, const char *path, struct sm_err *err) {
  memset(w, 0, sizeof *w);
  if (!path || !*path)
    return sm_fail(err, SM_EINVAL, "output file name is empty");
  w->path = sm_xstrdup(path);
  /* what path names, links followed (by the kernel: /dev/stdout and
   * /proc/self/fd/N name objects that are not paths) */
  struct stat fst;
  int followed = stat(path, &fst) == 0;
  if (!followed && errno != ENOENT) {
    int e = sm_fail(err, SM_EIO, "%s: cannot write: %s", path,
                    strerror(errno));
    sm_write_abort(w);
    return e;
  }
  int e = 0;
  if (followed && S_ISDIR(fst.st_mode))
    e = sm_fail(err, SM_EINVAL, "%s: is a directory, expected a file name",
                path);
  else if (followed && S_ISBLK(fst.st_mode))
    e = sm_fail(err, SM_EINVAL, "%s: is a block device; refusing to write "
                "over it", path);
  else if (followed && !S_ISREG(fst.st_mode))
    e = open_in_place(w, 0, err); /* FIFO, character device, socket */
  if (e || w->fp) {
    if (e)
      sm_write_abort(w);
    return e;
  }
  /* a regular file or a new name: find the file the links lead to */
  struct stat st;
  int exists;
  char *target = resolve_links(path, &st, &exists, err);
  if (!target) {
    sm_write_abort(w);
    return err ? err->code : SM_EIO;
  }
  if (followed && (!exists || st.st_dev != fst.st_dev ||
                   st.st_ino != fst.st_ino)) {
    /* reachable only through a link that names no path (a file open on
     * /proc/self/fd/N that was deleted or moved) */
    free(target);
    e = open_in_place(w, O_TRUNC, err);
    if (e)
      sm_write_abort(w);
    return e;
  }
  if (exists && access(target, W_OK) != 0) {
    e = sm_fail(err, SM_EIO, "%s: not writable: %s", path, strerror(errno));
    free(target);
    sm_write_abort(w);
    return e;
  }
  w->target = target;
  /* the temporary beside the target: TARGET.tmp, or TARGET.tmp.PID.N if
   * that name is taken (it is never opened, followed or removed) */
  size_t len = strlen(target) + 48;
  w->tmp = sm_xmalloc(len);
  int fd = -1;
  for (int n = 0; fd < 0 && n < 100; n++) {
    if (n)
      snprintf(w->tmp, len, "%s.tmp.%ld.%d", target, (long)getpid(), n);
    else
      snprintf(w->tmp, len, "%s.tmp", target);
    fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              exists ? 0600 : 0666);
    if (fd < 0 && errno != EEXIST)
      break;
  }
  if (fd < 0) {
    e = sm_fail(err, SM_EIO, "%s: cannot write (creating %s: %s)", path,
                w->tmp, strerror(errno));
    free(w->tmp);
    w->tmp = NULL;
    sm_write_abort(w);
    return e;
  }
  if (exists) {
    /* the replacement keeps the file's permissions (and owner, when we
     * may set it) */
    if (fchmod(fd, st.st_mode & 07777)) {
      /* best effort: the contents matter more than the mode */
    }
    if (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid)) {
      /* likewise */
    }
  }
  w->fp = fdopen(fd, "wb");
  if (!w->fp) {
    e = sm_fail(err, SM_EIO, "%s: cannot write: %s", w->tmp, strerror(errno));
    close(fd);
    sm_write_abort(w);
    return e;
  }
  return 0;
}

int sm_write_commit(struct sm_write *w, struct sm_err *err) {
  int bad = 0, why = 0;
  errno = 0;
  if (fflush(w->fp) != 0 || ferror(w->fp)) {
    bad = 1;
    why = errno ? errno : EIO;
  }
  if (!bad && w->tmp && fsync(fileno(w->fp)) != 0) {
    bad = 1;
    why = errno;
  }
  if (fclose(w->fp) != 0 && !bad) {
    bad = 1;
    why = errno;
  }
  w->fp = NULL;
  if (!bad && w->tmp && rename(w->tmp, w->target) != 0) {
    bad = 1;
    why = errno;
  }
  int e = 0;
  if (bad && w->tmp)
    e = sm_fail(err, SM_EIO, "%s: write failed: %s; the file is unchanged",
                w->path, strerror(why));
  else if (bad)
    e = sm_fail(err, SM_EIO, "%s: write failed: %s (written in place: it "
                "holds what was written before the error)",
                w->path, strerror(why));
  if (!bad && w->tmp) {
    /* the rename itself made durable */
    char *d = dir_of(w->target);
    int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      if (fsync(dfd)) {
        /* some file systems cannot sync a directory: the data is safe */
      }
      close(dfd);
    }
    free(d);
    free(w->tmp);
    w->tmp = NULL;
  }
  sm_write_abort(w);
  return e;
}

void sm_write_abort(struct sm_write *w) {
  if (w->fp)
    fclose(w->fp);
  if (w->tmp)
    unlink(w->tmp);
  free(w->tmp);
  free(w->target);
  free(w->path);
  memset(w, 0, sizeof *w);
}
