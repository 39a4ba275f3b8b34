/* unik libc: <assert.h> (C11 7.2). No include guard: each inclusion re-reads NDEBUG. */
#include <features.h>

#undef assert

#ifdef NDEBUG
# define assert(expression) ((void)0)
#else
__BEGIN_DECLS
/* Prints glibc's "prog: file:line: function: Assertion `expression' failed." and aborts. */
__UNIK_NORETURN void __assert_fail(const char *expression, const char *file, unsigned int line,
                                   const char *function) __THROW;
__END_DECLS
/* GCC and clang name the function as glibc's assert does (__PRETTY_FUNCTION__). */
# if defined __cplusplus
#  define assert(expression) \
  (static_cast<bool>(expression) ? void(0) : __assert_fail(#expression, __FILE__, __LINE__, __extension__ __PRETTY_FUNCTION__))
# else
#  define assert(expression) \
  ((expression) ? (void)0 : __assert_fail(#expression, __FILE__, __LINE__, __extension__ __PRETTY_FUNCTION__))
# endif
#endif

#if !defined __cplusplus && defined __STDC_VERSION__ && __STDC_VERSION__ >= 201112L \
    && __STDC_VERSION__ < 202311L && !defined static_assert
# define static_assert _Static_assert
#endif
