/* unik libc: <stdnoreturn.h> (C11 7.23). */
#ifndef _STDNORETURN_H
#define _STDNORETURN_H 1

#ifndef __cplusplus
# define noreturn _Noreturn
#endif

#endif
