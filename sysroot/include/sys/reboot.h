/* unik: <sys/reboot.h> — reboot(2) as glibc declares it, with Linux's command values.
   RB_AUTOBOOT resets the machine; RB_POWER_OFF and RB_HALT_SYSTEM switch it off as at
   the program's end with status 0; RB_ENABLE_CAD / RB_DISABLE_CAD do nothing; other
   commands fail with EINVAL. Nothing is flushed first (as on Linux). */
#ifndef _SYS_REBOOT_H
#define _SYS_REBOOT_H 1

#define RB_AUTOBOOT 0x01234567
#define RB_HALT_SYSTEM 0xcdef0123
#define RB_ENABLE_CAD 0x89abcdef
#define RB_DISABLE_CAD 0
#define RB_POWER_OFF 0x4321fedc
#define RB_SW_SUSPEND 0xd000fce2
#define RB_KEXEC 0x45584543

#ifdef __cplusplus
extern "C" {
#endif

int reboot(int __howto);

#ifdef __cplusplus
}
#endif

#endif
