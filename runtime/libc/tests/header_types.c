/* Prints the types, sizes and constants the C headers define, so that the sysroot's
 * headers can be compared with the host glibc's (tests/headers.rs). */
#define _GNU_SOURCE 1
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <limits.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <locale.h>
#include <sys/types.h>
#include <unistd.h>
#include <errno.h>
#include <stdalign.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <dirent.h>

#define NAME(x) _Generic((x), \
  signed char: "signed char", unsigned char: "unsigned char", char: "char", \
  short: "short", unsigned short: "unsigned short", int: "int", unsigned: "unsigned", \
  long: "long", unsigned long: "unsigned long", long long: "long long", \
  unsigned long long: "unsigned long long", float: "float", double: "double", \
  long double: "long double", default: "other")
#define SHOW(type) printf("%-16s %-20s %zu %zu\n", #type, NAME((type)0), sizeof(type), alignof(type))
#define VALUE(macro) printf("%-16s %-20s %lld\n", #macro, NAME(macro), (long long)(macro))

int main(void) {
  SHOW(size_t); SHOW(ptrdiff_t); SHOW(wchar_t); SHOW(ssize_t); SHOW(off_t); SHOW(pid_t);
  SHOW(int8_t); SHOW(int16_t); SHOW(int32_t); SHOW(int64_t); SHOW(uint64_t);
  SHOW(int_least8_t); SHOW(int_least64_t); SHOW(int_fast8_t); SHOW(int_fast16_t); SHOW(int_fast32_t);
  SHOW(uint_fast16_t); SHOW(intptr_t); SHOW(uintptr_t); SHOW(intmax_t); SHOW(uintmax_t);
  SHOW(uid_t); SHOW(gid_t); SHOW(mode_t); SHOW(dev_t); SHOW(ino_t); SHOW(nlink_t); SHOW(blksize_t);
  SHOW(blkcnt_t); SHOW(time_t); SHOW(clock_t); SHOW(suseconds_t); SHOW(useconds_t); SHOW(id_t);
  printf("max_align_t %zu %zu\n", sizeof(max_align_t), alignof(max_align_t));
  printf("div_t %zu ldiv_t %zu lldiv_t %zu imaxdiv_t %zu lconv %zu\n", sizeof(div_t), sizeof(ldiv_t), sizeof(lldiv_t), sizeof(imaxdiv_t), sizeof(struct lconv));
  printf("lconv.int_n_sign_posn %zu\n", offsetof(struct lconv, int_n_sign_posn));
  VALUE(INT8_MIN); VALUE(INT64_MIN); VALUE(UINT32_MAX); VALUE(INT_FAST16_MAX); VALUE(SIZE_MAX); VALUE(PTRDIFF_MIN);
  VALUE(WCHAR_MIN); VALUE(WCHAR_MAX); VALUE(WINT_MAX); VALUE(SIG_ATOMIC_MAX); VALUE(INTMAX_C(5)); VALUE(UINT64_C(5));
  VALUE(CHAR_MIN); VALUE(LONG_MAX); VALUE(LLONG_MIN); VALUE(ULONG_MAX); VALUE(MB_LEN_MAX); VALUE(SSIZE_MAX);
  VALUE(EOF); VALUE(BUFSIZ); VALUE(_IOFBF); VALUE(_IOLBF); VALUE(_IONBF); VALUE(RAND_MAX); VALUE(EXIT_FAILURE);
  VALUE(LC_ALL); VALUE(LC_MESSAGES); VALUE(LC_IDENTIFICATION); VALUE(MB_CUR_MAX);
  VALUE(EDEADLOCK); VALUE(EWOULDBLOCK); VALUE(ENOTSUP); VALUE(EHWPOISON); VALUE(ERFKILL); VALUE(EOPNOTSUPP);
  VALUE(FLT_EVAL_METHOD); VALUE(DECIMAL_DIG); VALUE(LDBL_MANT_DIG); VALUE(FLT_DIG);
  printf("%s %s %s %s %s\n", PRId64, PRIuFAST16, PRIxPTR, SCNd8, PRIdMAX);
  printf("%g %g %Lg %g\n", FLT_EPSILON, DBL_MIN, LDBL_MAX, FLT_TRUE_MIN);
  printf("stat %zu: dev %zu ino %zu nlink %zu mode %zu uid %zu rdev %zu size %zu blksize %zu blocks %zu atim %zu mtim %zu ctim %zu\n",
         sizeof(struct stat), offsetof(struct stat, st_dev), offsetof(struct stat, st_ino), offsetof(struct stat, st_nlink),
         offsetof(struct stat, st_mode), offsetof(struct stat, st_uid), offsetof(struct stat, st_rdev), offsetof(struct stat, st_size),
         offsetof(struct stat, st_blksize), offsetof(struct stat, st_blocks), offsetof(struct stat, st_atim),
         offsetof(struct stat, st_mtim), offsetof(struct stat, st_ctim));
  printf("dirent %zu: ino %zu off %zu reclen %zu type %zu name %zu\n", sizeof(struct dirent), offsetof(struct dirent, d_ino),
         offsetof(struct dirent, d_off), offsetof(struct dirent, d_reclen), offsetof(struct dirent, d_type), offsetof(struct dirent, d_name));
  printf("iovec %zu fpos_t %zu\n", sizeof(struct iovec), sizeof(fpos_t));
  VALUE(O_RDONLY); VALUE(O_WRONLY); VALUE(O_RDWR); VALUE(O_ACCMODE); VALUE(O_CREAT); VALUE(O_EXCL); VALUE(O_NOCTTY);
  VALUE(O_TRUNC); VALUE(O_APPEND); VALUE(O_NONBLOCK); VALUE(O_DSYNC); VALUE(O_SYNC); VALUE(O_CLOEXEC); VALUE(O_DIRECTORY);
  VALUE(O_NOFOLLOW); VALUE(F_DUPFD); VALUE(F_GETFD); VALUE(F_SETFD); VALUE(F_GETFL); VALUE(F_SETFL); VALUE(F_DUPFD_CLOEXEC);
  VALUE(FD_CLOEXEC); VALUE(AT_FDCWD); VALUE(AT_SYMLINK_NOFOLLOW); VALUE(AT_REMOVEDIR); VALUE(AT_EMPTY_PATH);
  VALUE(S_IFMT); VALUE(S_IFDIR); VALUE(S_IFREG); VALUE(S_IFLNK); VALUE(S_IFIFO); VALUE(S_IFCHR); VALUE(S_IRWXU);
  VALUE(UTIME_NOW); VALUE(UTIME_OMIT); VALUE(SEEK_SET); VALUE(SEEK_CUR); VALUE(SEEK_END); VALUE(F_OK); VALUE(R_OK);
  VALUE(W_OK); VALUE(X_OK); VALUE(DT_DIR); VALUE(DT_REG); VALUE(DT_LNK); VALUE(FILENAME_MAX); VALUE(FOPEN_MAX);
  return 0;
}
