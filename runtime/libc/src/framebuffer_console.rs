//! The `framebuffer-console` component (runtime/components.toml; `unikcc
//! --framebuffer-console`): its init function mirrors the console on the framebuffer
//! the loader handed over (`unik_kernel::framebuffer`), when there is one.

/// The component's init function, and its only symbol.
#[unsafe(no_mangle)]
extern "C" fn __unik_init_framebuffer_console() {
    unik_kernel::framebuffer::start_console();
}
