/* The aarch64 floor kernel: the smallest ELF image for QEMU virt that writes one byte
 * to the console and exits the way a unik image does (runtime/README.md, "Exit
 * statuses"): the `exit 0` line through semihosting SYS_WRITE0, which `unik run`
 * reads from its status file, then SYS_EXIT. Boot time of a real aarch64 image is
 * measured against this one.
 *
 * Arm semihosting (IHI 0056, "Semihosting for AArch32 and AArch64"): on AArch64 a
 * call is `hlt #0xf000` with the operation number in w0 and its parameter in x1.
 * It runs with the MMU off, as QEMU enters it, so every access is Device memory:
 * only byte stores and the semihosting calls (QEMU reads the memory itself). */

    .section .text, "ax", %progbits
    .globl floor_start
    .type floor_start, %function
floor_start:
    mov x1, #0x09000000     /* QEMU virt's first PL011: UARTDR at offset 0 */
    mov w2, #'!'
    strb w2, [x1]
    mov x0, #0x04           /* SYS_WRITE0: x1 = a NUL-terminated string */
    adr x1, status_line
    hlt #0xf000
    mov x0, #0x18           /* SYS_EXIT: x1 = {reason, subcode} */
    adr x1, exit_block
    hlt #0xf000
1:  wfi                     /* not reached when semihosting is on */
    b 1b

    .p2align 3
exit_block:
    .quad 0x20026           /* ADP_Stopped_ApplicationExit */
    .quad 0                 /* the status */
status_line:
    .asciz "exit 0\n"
