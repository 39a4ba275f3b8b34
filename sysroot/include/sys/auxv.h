/* unik: <sys/auxv.h> — the ELF auxiliary vector, as glibc declares it. */
#ifndef _SYS_AUXV_H
#define _SYS_AUXV_H 1

#ifdef __cplusplus
extern "C" {
#endif

/* Entry types (Linux include/uapi/linux/auxvec.h); unik answers the ones marked. */
#define AT_NULL 0
#define AT_PHDR 3   /* answered: the image's program headers */
#define AT_PHENT 4  /* answered */
#define AT_PHNUM 5  /* answered */
#define AT_PAGESZ 6 /* answered: 4096 */
#define AT_ENTRY 9
#define AT_HWCAP 16 /* answered: 0 (no optional feature promised) */
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_HWCAP2 26 /* answered: 0 */

/* The value of entry TYPE; 0 with errno ENOENT when there is none. */
unsigned long getauxval(unsigned long __type);

#ifdef __cplusplus
}
#endif

#endif
