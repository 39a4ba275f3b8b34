//! The scheduler: preemptive round-robin over the program's threads, tickless.
//!
//! - **Threads** ([`Thread`]) live in kernel heap blocks linked into intrusive lists (the
//!   run queue, the list of all threads), so that the lists change with interrupts off
//!   without ever calling the allocator (the heap's lock may be held by a preempted
//!   thread: allocating with interrupts off could wait forever).
//! - **Critical sections** are "interrupts off" ([`InterruptsOff`]): one CPU today. SMP
//!   adds a spin lock inside [`SchedulerCell::with`] and per-CPU run queues; callers do
//!   not change, because nothing outside this module assumes a global current thread:
//!   the running thread is always read from the CPU's own block ([`PerCpu`], reached
//!   through the arch's per-CPU pointer).
//! - **Switching**: the running thread picks the next one and calls the arch switch with
//!   interrupts off; it resumes inside that call later, and its `InterruptsOff` guard
//!   restores its own interrupt state. New threads start in [`thread_start`], which turns
//!   interrupts on; the main thread gets them on at the scheduler's start. A preempted thread switched from inside the timer interrupt handler
//!   and resumes there (the arch entry code saved its full state).
//! - **Time slices and timers**: one one-shot timer per CPU, programmed after every
//!   scheduling decision for the earliest of: the running thread's slice end (only when
//!   another thread waits for the CPU) and the earliest deadline of a timed wait.
//! - **Idle**: a per-CPU idle thread halts with interrupts on (`wait_for_interrupt`)
//!   when nothing is runnable; when every thread is blocked with no deadline, nothing
//!   can ever wake one: it reports the deadlock and ends the run with status 134.

extern crate alloc;

pub mod futex;
mod stack;

use alloc::boxed::Box;
use core::cell::{Cell, UnsafeCell};
use core::ptr::null_mut;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};

use crate::arch::threading as arch;
use crate::report::{ErrorConsole, Write};

pub use stack::StackError;

/// A thread's identity (1 for the main thread; also its `gettid`).
pub type ThreadId = u32;

/// Length of a round-robin time slice.
pub const TIME_SLICE_NANOSECONDS: u64 = 10_000_000;
/// Exit status when every thread is blocked forever (SIGABRT's, like a failed assert:
/// runtime/README.md "Exit statuses").
pub const DEADLOCK_STATUS: i32 = 134;
/// The idle thread's stack: it only runs the scheduler.
const IDLE_STACK_SIZE: usize = 16 * 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    Ready,
    Blocked,
    Dead,
}

/// What a blocked thread waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    Nothing,
    /// A futex word (by address) and the wait's bitset (FUTEX_WAIT_BITSET).
    Futex {
        address: usize,
        bitset: u32,
    },
    /// A sleep until the thread's deadline.
    Sleep,
}

/// Why a blocked thread runs again.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WakeReason {
    Woken,
    TimedOut,
}

/// One thread of the program (or a CPU's idle thread).
pub struct Thread {
    id: ThreadId,
    state: State,
    wait: Wait,
    /// Order of blocking: futex wakes go to the longest waiter first.
    wait_sequence: u64,
    /// Monotonic deadline of a timed wait.
    deadline: Option<u64>,
    wake_reason: WakeReason,
    saved_stack_pointer: usize,
    thread_pointer: usize,
    run_next: *mut Thread,
    all_next: *mut Thread,
    stack: Option<stack::ThreadStack>,
    tls: Option<(*mut u8, core::alloc::Layout)>,
    name: [u8; 16],
    cpu_time: u64,
    running_since: u64,
    slice_end: u64,
    /// The thread's stack `(lowest usable address, top)`.
    stack_bounds: (usize, usize),
    /// Zeroed (as a 32-bit word) and futex-woken when the thread ends (Linux's
    /// CLONE_CHILD_CLEARTID, what `pthread_join` waits on).
    exit_clear_address: usize,
    entry: Option<(fn(usize), usize)>,
    is_idle: bool,
}

impl Thread {
    fn new(id: ThreadId, name: &[u8]) -> Thread {
        let mut thread = Thread {
            id,
            state: State::Ready,
            wait: Wait::Nothing,
            wait_sequence: 0,
            deadline: None,
            wake_reason: WakeReason::Woken,
            saved_stack_pointer: 0,
            thread_pointer: 0,
            run_next: null_mut(),
            all_next: null_mut(),
            stack: None,
            tls: None,
            name: [0; 16],
            cpu_time: 0,
            running_since: 0,
            slice_end: 0,
            stack_bounds: (0, 0),
            exit_clear_address: 0,
            entry: None,
            is_idle: false,
        };
        thread.set_name(name);
        thread
    }

    fn set_name(&mut self, name: &[u8]) {
        // 15 bytes and a NUL, like Linux's TASK_COMM_LEN.
        let length = name.len().min(15);
        self.name = [0; 16];
        self.name[..length].copy_from_slice(&name[..length]);
    }

    fn name(&self) -> &[u8] {
        let length = self.name.iter().position(|&byte| byte == 0).unwrap_or(16);
        &self.name[..length]
    }
}

/// Interrupts off for the guard's lifetime (restored to what they were).
pub struct InterruptsOff {
    were_enabled: bool,
}

impl InterruptsOff {
    pub fn new() -> InterruptsOff {
        InterruptsOff {
            were_enabled: arch::disable_interrupts(),
        }
    }
}

impl Default for InterruptsOff {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for InterruptsOff {
    fn drop(&mut self) {
        arch::restore_interrupts(self.were_enabled);
    }
}

struct Scheduler {
    run_head: *mut Thread,
    run_tail: *mut Thread,
    all_head: *mut Thread,
    next_id: ThreadId,
    next_wait_sequence: u64,
    /// CPU time of threads that ended (for the process CPU clock).
    dead_cpu_time: u64,
}

/// The scheduler's state: touched only with interrupts off (the token proves it).
struct SchedulerCell {
    value: UnsafeCell<Scheduler>,
    borrowed: Cell<bool>,
}

// SAFETY: one CPU, and every access happens with interrupts off (`with` takes the
// token), so no two accesses overlap; `borrowed` catches re-entry.
unsafe impl Sync for SchedulerCell {}

impl SchedulerCell {
    fn with<R>(
        &self,
        _interrupts_off: &InterruptsOff,
        body: impl FnOnce(&mut Scheduler) -> R,
    ) -> R {
        assert!(!self.borrowed.replace(true), "scheduler state re-entered");
        // SAFETY: interrupts are off on the only CPU and `borrowed` was false: this is
        // the only reference; it ends before `borrowed` is cleared.
        let result = body(unsafe { &mut *self.value.get() });
        self.borrowed.set(false);
        result
    }
}

static SCHEDULER: SchedulerCell = SchedulerCell {
    value: UnsafeCell::new(Scheduler {
        run_head: null_mut(),
        run_tail: null_mut(),
        all_head: null_mut(),
        next_id: 1,
        next_wait_sequence: 0,
        dead_cpu_time: 0,
    }),
    borrowed: Cell::new(false),
};

/// A CPU's own data, found through the arch's per-CPU pointer.
#[repr(C)]
struct PerCpu {
    /// Its own address (the arch reads the block's first word).
    self_address: AtomicUsize,
    current: AtomicPtr<Thread>,
    idle: AtomicPtr<Thread>,
}

static BOOT_CPU: PerCpu = PerCpu {
    self_address: AtomicUsize::new(0),
    current: AtomicPtr::new(null_mut()),
    idle: AtomicPtr::new(null_mut()),
};

static INITIALIZED: AtomicBool = AtomicBool::new(false);

fn this_cpu() -> &'static PerCpu {
    let address = arch::cpu_local();
    // SAFETY: the per-CPU pointer is set by `start` (callers check INITIALIZED) to a
    // static PerCpu that lives for the run.
    unsafe { &*(address as *const PerCpu) }
}

/// The running thread.
fn current() -> *mut Thread {
    this_cpu().current.load(Ordering::Relaxed)
}

/// Dereferences a thread pointer from the scheduler's lists.
///
/// # Safety
/// Interrupts off (the caller holds an [`InterruptsOff`]), and `thread` is a live thread
/// (in the lists, not yet reaped).
#[allow(clippy::mut_from_ref)]
unsafe fn thread_mut(_interrupts_off: &InterruptsOff, thread: *mut Thread) -> &mut Thread {
    // SAFETY: the caller's contract: a live heap block, and nothing else touches thread
    // state while interrupts are off.
    unsafe { &mut *thread }
}

/// Whether the scheduler runs (see [`ensure_started`]).
pub fn is_initialized() -> bool {
    INITIALIZED.load(Ordering::Acquire)
}

/// Why the scheduler could not start.
#[derive(Clone, Copy)]
pub enum SchedulerError {
    OutOfMemory,
    Timer(&'static str),
}

/// A start that failed for good (an arch or machine without a usable timer): the
/// program stays single-threaded, and later calls do not try again.
static START_FAILED: AtomicBool = AtomicBool::new(false);

/// Starts the scheduler on first need: the first thread spawned, the first wait that
/// must block (a futex wait on an unchanged word, a sleep), the first device interrupt
/// routed, the first thread-name call. Until then the program is its one thread,
/// nothing can preempt or wake it, and every entry point here has a single-threaded
/// answer; a program that never needs the scheduler (a hello world that links
/// `pthread_*` through Rust std) never pays for the timer's set-up, the idle thread's
/// stack or the clock's calibration.
///
/// Thread-safe by construction: before the start there is exactly one thread and no
/// interrupt source that reaches the scheduler (its timer and device interrupts are
/// set up here), so the first call cannot race with another.
pub fn ensure_started() -> Result<(), SchedulerError> {
    if is_initialized() {
        return Ok(());
    }
    if START_FAILED.load(Ordering::Relaxed) {
        return Err(SchedulerError::Timer("the scheduler could not start"));
    }
    start().inspect_err(|error| {
        if let SchedulerError::Timer(_) = error {
            START_FAILED.store(true, Ordering::Relaxed);
        }
    })
}

/// Makes the running code the main thread (id 1), creates the idle thread and starts
/// the timer.
fn start() -> Result<(), SchedulerError> {
    // The timer first: an arch or machine without one stays single-threaded, and must
    // not need anything else of the interface. Once only: a start that then runs out
    // of memory may be tried again.
    static TIMER_STARTED: AtomicBool = AtomicBool::new(false);
    if !TIMER_STARTED.load(Ordering::Relaxed) {
        let _interrupts_off = InterruptsOff::new();
        // SAFETY: once (TIMER_STARTED; a timer failure is final: START_FAILED),
        // interrupts off.
        unsafe { arch::initialize_timer(timer_interrupt) }.map_err(SchedulerError::Timer)?;
        TIMER_STARTED.store(true, Ordering::Relaxed);
    }
    let mut main = Box::new(Thread::new(1, b"main"));
    main.state = State::Running;
    main.thread_pointer = arch::thread_pointer();
    main.stack_bounds = arch::boot_stack();
    let mut idle = Box::new(Thread::new(0, b"idle"));
    idle.is_idle = true;
    let idle_stack = stack::ThreadStack::allocate(IDLE_STACK_SIZE, stack::GUARD_SIZE)
        .map_err(|_| SchedulerError::OutOfMemory)?;
    // SAFETY: the stack is fresh, mapped and 16-byte aligned at its top.
    idle.saved_stack_pointer = unsafe { arch::prepare_stack(idle_stack.top(), idle_start, 0) };
    idle.stack = Some(idle_stack);
    idle.thread_pointer = main.thread_pointer;
    let main = Box::into_raw(main);
    let idle = Box::into_raw(idle);

    let interrupts_off = InterruptsOff::new();
    BOOT_CPU
        .self_address
        .store(&raw const BOOT_CPU as usize, Ordering::Relaxed);
    BOOT_CPU.current.store(main, Ordering::Relaxed);
    BOOT_CPU.idle.store(idle, Ordering::Relaxed);
    // SAFETY: BOOT_CPU is a static that begins with its own address.
    unsafe { arch::set_cpu_local(&raw const BOOT_CPU as usize) };
    SCHEDULER.with(&interrupts_off, |scheduler| {
        scheduler.all_head = main;
        scheduler.next_id = 2;
    });
    // SAFETY: interrupts off, `main` is live.
    let main_thread = unsafe { thread_mut(&interrupts_off, main) };
    // The main thread has had the CPU since monotonic time 0 (what the CPU clocks
    // reported before the start), so they keep counting from there.
    main_thread.running_since = 0;
    main_thread.slice_end = arch::monotonic_nanoseconds() + TIME_SLICE_NANOSECONDS;
    INITIALIZED.store(true, Ordering::Release);
    drop(interrupts_off);
    // The boot ran the program with interrupts masked (PVH and the aarch64 entry leave
    // them so), and the guards above only restore that: without this, the main thread
    // could never be preempted, and every guard it takes later would restore "masked"
    // again after its thread resumes. Then a main thread that spins on something
    // another thread holds (the heap's spin lock while that thread is preempted, a
    // flag in a busy loop) spins forever. Every other thread turns them on in
    // `thread_start`; the main one does here. The callers of `ensure_started` hold no
    // `InterruptsOff` of their own.
    arch::enable_interrupts();
    Ok(())
}

fn push_ready(scheduler: &mut Scheduler, interrupts_off: &InterruptsOff, thread: *mut Thread) {
    // SAFETY: interrupts off; the thread is live.
    let entry = unsafe { thread_mut(interrupts_off, thread) };
    entry.state = State::Ready;
    entry.run_next = null_mut();
    if scheduler.run_tail.is_null() {
        scheduler.run_head = thread;
    } else {
        // SAFETY: the tail is a live thread in the queue.
        unsafe { thread_mut(interrupts_off, scheduler.run_tail) }.run_next = thread;
    }
    scheduler.run_tail = thread;
}

fn pop_ready(scheduler: &mut Scheduler, interrupts_off: &InterruptsOff) -> *mut Thread {
    let head = scheduler.run_head;
    if !head.is_null() {
        // SAFETY: the head is a live thread in the queue.
        let entry = unsafe { thread_mut(interrupts_off, head) };
        scheduler.run_head = entry.run_next;
        if scheduler.run_head.is_null() {
            scheduler.run_tail = null_mut();
        }
        entry.run_next = null_mut();
    }
    head
}

/// Makes a blocked thread ready (its wait ends with `reason`).
fn wake_thread(
    scheduler: &mut Scheduler,
    interrupts_off: &InterruptsOff,
    thread: *mut Thread,
    reason: WakeReason,
) {
    // SAFETY: interrupts off; the thread is live.
    let entry = unsafe { thread_mut(interrupts_off, thread) };
    entry.wait = Wait::Nothing;
    entry.deadline = None;
    entry.wake_reason = reason;
    push_ready(scheduler, interrupts_off, thread);
}

/// Picks the next thread and switches to it. The caller has set the current thread's
/// state: `Running` (keeps running unless another is ready and `preempt`), `Ready`
/// (already queued), `Blocked` or `Dead`. Returns when the calling thread runs again.
fn schedule(interrupts_off: &InterruptsOff) {
    let now = arch::monotonic_nanoseconds();
    let cpu = this_cpu();
    let previous = current();
    let next = SCHEDULER.with(interrupts_off, |scheduler| {
        // SAFETY: interrupts off; the running thread is live.
        let previous_state = unsafe { thread_mut(interrupts_off, previous) }.state;
        // SAFETY: as above.
        let previous_is_idle = unsafe { thread_mut(interrupts_off, previous) }.is_idle;
        // A running thread keeps the CPU unless it is the idle thread (the callers
        // queue a preempted thread, which makes it `Ready`).
        if previous_state == State::Running && !previous_is_idle {
            return previous;
        }
        let next = pop_ready(scheduler, interrupts_off);
        if next.is_null() {
            cpu.idle.load(Ordering::Relaxed)
        } else {
            next
        }
    });
    if next != previous {
        // SAFETY: interrupts off; both are live (a dead previous is reaped only after
        // it switched away, by another thread).
        let previous_entry = unsafe { thread_mut(interrupts_off, previous) };
        if previous_entry.state == State::Running {
            // Only the idle thread is ever switched away while still "running": it
            // waits for work outside the run queue.
            previous_entry.state = State::Ready;
        }
        previous_entry.cpu_time += now.saturating_sub(previous_entry.running_since);
        let from = &raw mut previous_entry.saved_stack_pointer;
        // SAFETY: as above.
        let next_entry = unsafe { thread_mut(interrupts_off, next) };
        next_entry.state = State::Running;
        next_entry.running_since = now;
        next_entry.slice_end = now + TIME_SLICE_NANOSECONDS;
        let to = next_entry.saved_stack_pointer;
        arch::set_thread_pointer(next_entry.thread_pointer);
        cpu.current.store(next, Ordering::Relaxed);
        program_timer(interrupts_off, now);
        // SAFETY: interrupts off; `to` was saved by the switch or made by
        // prepare_stack; `from` is inside the previous thread's heap block, which
        // stays until it is reaped (after it ran for the last time).
        unsafe { arch::switch(from, to) };
    } else {
        program_timer(interrupts_off, now);
    }
}

/// Programs the CPU's timer for its next event.
fn program_timer(interrupts_off: &InterruptsOff, now: u64) {
    let running = current();
    let next_event = SCHEDULER.with(interrupts_off, |scheduler| {
        let mut next_event: Option<u64> = None;
        let mut thread = scheduler.all_head;
        while !thread.is_null() {
            // SAFETY: interrupts off; threads in the list are live.
            let entry = unsafe { thread_mut(interrupts_off, thread) };
            if entry.state == State::Blocked
                && let Some(deadline) = entry.deadline
            {
                next_event = Some(next_event.map_or(deadline, |event| event.min(deadline)));
            }
            thread = entry.all_next;
        }
        if !scheduler.run_head.is_null() {
            // SAFETY: as above.
            let entry = unsafe { thread_mut(interrupts_off, running) };
            let slice_end = if entry.is_idle { now } else { entry.slice_end };
            next_event = Some(next_event.map_or(slice_end, |event| event.min(slice_end)));
        }
        next_event
    });
    arch::set_timer(next_event);
}

/// The timer interrupt: wakes the threads whose deadline passed and ends the running
/// thread's slice when another one is waiting. Called by the arch interrupt handler,
/// interrupts off, on the interrupted thread's stack.
pub fn timer_interrupt() {
    if !is_initialized() {
        return;
    }
    let interrupts_off = InterruptsOff::new();
    let now = arch::monotonic_nanoseconds();
    let running = current();
    SCHEDULER.with(&interrupts_off, |scheduler| {
        // Expired waits run in deadline order (ties: the earlier waiter first), as the
        // threads would have woken had each had its own timer.
        loop {
            let mut earliest: *mut Thread = null_mut();
            let mut earliest_key = (u64::MAX, u64::MAX);
            let mut thread = scheduler.all_head;
            while !thread.is_null() {
                // SAFETY: interrupts off; threads in the list are live.
                let entry = unsafe { thread_mut(&interrupts_off, thread) };
                if entry.state == State::Blocked
                    && let Some(deadline) = entry.deadline
                    && deadline <= now
                    && (deadline, entry.wait_sequence) < earliest_key
                {
                    earliest = thread;
                    earliest_key = (deadline, entry.wait_sequence);
                }
                thread = entry.all_next;
            }
            if earliest.is_null() {
                break;
            }
            wake_thread(scheduler, &interrupts_off, earliest, WakeReason::TimedOut);
        }
        // SAFETY: the running thread is live.
        let entry = unsafe { thread_mut(&interrupts_off, running) };
        let others_waiting = !scheduler.run_head.is_null();
        if others_waiting && !entry.is_idle && entry.slice_end <= now {
            push_ready(scheduler, &interrupts_off, running);
        }
    });
    schedule(&interrupts_off);
}

/// Gives the CPU to the next ready thread, if any.
pub fn yield_now() {
    if !is_initialized() {
        return;
    }
    let interrupts_off = InterruptsOff::new();
    let running = current();
    let others_waiting = SCHEDULER.with(&interrupts_off, |scheduler| {
        let waiting = !scheduler.run_head.is_null();
        if waiting {
            push_ready(scheduler, &interrupts_off, running);
        }
        waiting
    });
    if others_waiting {
        schedule(&interrupts_off);
    }
}

/// Blocks the running thread (the caller checked, under the same `interrupts_off`, that
/// it must wait) until [`wake_futex`]/the deadline. Returns why it runs again.
fn block_current(interrupts_off: &InterruptsOff, wait: Wait, deadline: Option<u64>) -> WakeReason {
    let running = current();
    SCHEDULER.with(interrupts_off, |scheduler| {
        // SAFETY: interrupts off; the running thread is live.
        let entry = unsafe { thread_mut(interrupts_off, running) };
        entry.state = State::Blocked;
        entry.wait = wait;
        entry.deadline = deadline;
        entry.wake_reason = WakeReason::Woken;
        entry.wait_sequence = scheduler.next_wait_sequence;
        scheduler.next_wait_sequence += 1;
    });
    schedule(interrupts_off);
    // SAFETY: as above; we run again, so the wait is over.
    unsafe { thread_mut(interrupts_off, running) }.wake_reason
}

/// Sleeps until monotonic time `deadline` (nanoseconds).
pub fn sleep_until(deadline: u64) {
    if arch::monotonic_nanoseconds() >= deadline {
        return;
    }
    if ensure_started().is_err() {
        while arch::monotonic_nanoseconds() < deadline {
            core::hint::spin_loop();
        }
        return;
    }
    let interrupts_off = InterruptsOff::new();
    if arch::monotonic_nanoseconds() >= deadline {
        return;
    }
    block_current(&interrupts_off, Wait::Sleep, Some(deadline));
}

/// What [`spawn`] needs.
pub struct SpawnOptions<'a> {
    pub entry: fn(usize),
    pub argument: usize,
    /// Usable stack bytes (rounded up to pages).
    pub stack_size: usize,
    /// Unmapped bytes below the stack (rounded up to pages; at least one page).
    pub guard_size: usize,
    pub name: &'a [u8],
    /// Zeroed and futex-woken when the thread ends (0: none).
    pub exit_clear_address: usize,
}

/// The new thread's identity and its thread pointer (the TCB address, for the libc).
pub struct Spawned {
    pub id: ThreadId,
    pub thread_pointer: usize,
    /// The stack: lowest usable address and size.
    pub stack_bottom: usize,
    pub stack_size: usize,
}

/// Creates a thread that runs `entry(argument)` with its own stack (guard page below)
/// and TLS block; it is queued to run after the threads already waiting.
pub fn spawn(options: SpawnOptions<'_>) -> Result<Spawned, StackError> {
    ensure_started().map_err(|_| StackError::OutOfMemory)?;
    reap();
    let (tls_size, tls_alignment) = arch::tls_layout().ok_or(StackError::OutOfMemory)?;
    let tls_layout = core::alloc::Layout::from_size_align(tls_size, tls_alignment)
        .map_err(|_| StackError::OutOfMemory)?;
    let stack = stack::ThreadStack::allocate(options.stack_size, options.guard_size)?;
    let stack_size = stack.size();
    // SAFETY: a non-zero-sized layout (the TCB alone is 512 bytes).
    let tls = unsafe { alloc::alloc::alloc(tls_layout) };
    if tls.is_null() {
        return Err(StackError::OutOfMemory);
    }
    // SAFETY: a fresh allocation of the layout's size and alignment; the calling
    // thread's TCB is set up.
    let thread_pointer = unsafe { arch::initialize_tls(tls) };
    let mut thread = Box::new(Thread::new(0, options.name));
    thread.entry = Some((options.entry, options.argument));
    thread.thread_pointer = thread_pointer;
    thread.tls = Some((tls, tls_layout));
    thread.exit_clear_address = options.exit_clear_address;
    let top = stack.top();
    thread.stack_bounds = (stack.bottom(), top);
    thread.stack = Some(stack);
    let thread = Box::into_raw(thread);
    // SAFETY: the stack is fresh and mapped, its top 16-byte aligned; the argument is
    // the thread's own (live) block.
    let saved = unsafe { arch::prepare_stack(top, thread_start, thread as usize) };
    let stack_bounds = (top - stack_size, top);
    let interrupts_off = InterruptsOff::new();
    let id = SCHEDULER.with(&interrupts_off, |scheduler| {
        // SAFETY: interrupts off; the block is ours until it is linked in just below.
        let entry = unsafe { thread_mut(&interrupts_off, thread) };
        entry.id = scheduler.next_id;
        scheduler.next_id = scheduler.next_id.wrapping_add(1).max(2);
        entry.saved_stack_pointer = saved;
        entry.all_next = scheduler.all_head;
        scheduler.all_head = thread;
        push_ready(scheduler, &interrupts_off, thread);
        entry.id
    });
    program_timer(&interrupts_off, arch::monotonic_nanoseconds());
    Ok(Spawned {
        id,
        thread_pointer,
        stack_bottom: stack_bounds.0,
        stack_size: stack_bounds.1 - stack_bounds.0,
    })
}

/// The first Rust code of a new thread (via the arch trampoline), interrupts off.
unsafe extern "C" fn thread_start(thread: usize) -> ! {
    arch::enable_interrupts();
    let interrupts_off = InterruptsOff::new();
    // SAFETY: `thread` is this thread's own live block (spawn passed it).
    let entry = unsafe { thread_mut(&interrupts_off, thread as *mut Thread) }.entry;
    drop(interrupts_off);
    if let Some((function, argument)) = entry {
        function(argument);
    }
    exit_current()
}

/// Whether a device interrupt is routed: then a thread blocked without a deadline may
/// still be woken (by the device's handler), and "everything blocked" is not a deadlock.
static DEVICE_INTERRUPTS: core::sync::atomic::AtomicBool =
    core::sync::atomic::AtomicBool::new(false);

/// Routes a device's interrupt line (x86_64: GSI; aarch64: GIC INTID) to `handler`,
/// which runs with interrupts off and may wake threads ([`futex::wake`]).
pub fn enable_device_interrupt(line: u32, handler: fn()) -> Result<(), &'static str> {
    if ensure_started().is_err() {
        return Err("the scheduler is not running");
    }
    let _interrupts_off = InterruptsOff::new();
    DEVICE_INTERRUPTS.store(true, core::sync::atomic::Ordering::Relaxed);
    // SAFETY: interrupts off, and the scheduler's start set the interrupt controller up.
    unsafe { arch::route_device_interrupt(line, handler) }
}

/// Claims an interrupt vector for `handler` and returns the message (address, data) a
/// PCI device writes to raise it (MSI/MSI-X); see [`enable_device_interrupt`].
pub fn enable_message_interrupt(handler: fn()) -> Result<(u64, u32), &'static str> {
    if ensure_started().is_err() {
        return Err("the scheduler is not running");
    }
    let _interrupts_off = InterruptsOff::new();
    DEVICE_INTERRUPTS.store(true, core::sync::atomic::Ordering::Relaxed);
    arch::route_message_interrupt(handler)
}

/// The idle thread: runs the scheduler when something is ready, reports a deadlock when
/// nothing ever can be, halts otherwise.
unsafe extern "C" fn idle_start(_argument: usize) -> ! {
    loop {
        let interrupts_off = InterruptsOff::new();
        let (ready, deadlocked) = SCHEDULER.with(&interrupts_off, |scheduler| {
            let ready = !scheduler.run_head.is_null();
            let mut any_live = false;
            let mut any_wakeable = false;
            let mut thread = scheduler.all_head;
            while !thread.is_null() {
                // SAFETY: interrupts off; threads in the list are live.
                let entry = unsafe { thread_mut(&interrupts_off, thread) };
                if entry.state != State::Dead {
                    any_live = true;
                    if entry.state != State::Blocked || entry.deadline.is_some() {
                        any_wakeable = true;
                    }
                }
                thread = entry.all_next;
            }
            // None: no thread left at all (the libc ends the run when the last one
            // exits; this is the backstop).
            let device_wakeups = DEVICE_INTERRUPTS.load(core::sync::atomic::Ordering::Relaxed);
            (ready, any_live.then_some(!any_wakeable && !device_wakeups))
        });
        if ready {
            schedule(&interrupts_off);
        } else if deadlocked == Some(true) {
            report_deadlock(&interrupts_off);
        } else if deadlocked.is_none() {
            crate::exit(0)
        } else {
            // Interrupts on only inside the halt: the timer (or another interrupt)
            // wakes it, its handler wakes threads and switches to them.
            arch::wait_for_interrupt();
        }
    }
}

fn report_deadlock(interrupts_off: &InterruptsOff) -> ! {
    let mut console = ErrorConsole;
    SCHEDULER.with(interrupts_off, |scheduler| {
        let mut count = 0;
        let mut thread = scheduler.all_head;
        while !thread.is_null() {
            // SAFETY: interrupts off; threads in the list are live.
            let entry = unsafe { thread_mut(interrupts_off, thread) };
            if entry.state == State::Blocked {
                count += 1;
            }
            thread = entry.all_next;
        }
        let plural = if count == 1 {
            "thread is"
        } else {
            "threads are"
        };
        console
            .text("unik: deadlock: all ")
            .decimal(count)
            .text(" ")
            .text(plural)
            .text(" blocked forever\n");
        let mut thread = scheduler.all_head;
        while !thread.is_null() {
            // SAFETY: as above.
            let entry = unsafe { thread_mut(interrupts_off, thread) };
            if entry.state == State::Blocked {
                let name = entry.name();
                console.text("unik:   thread ").decimal(entry.id.into());
                if !name.is_empty() {
                    console.text(" (").raw(name).text(")");
                }
                match entry.wait {
                    Wait::Futex { address, .. } => console
                        .text(": waiting on futex ")
                        .hex(address as u64)
                        .text("\n"),
                    Wait::Sleep | Wait::Nothing => console.text(": waiting\n"),
                };
            }
            thread = entry.all_next;
        }
    });
    crate::exit(DEADLOCK_STATUS)
}

/// Ends the running thread: zeroes and wakes its exit word, and never returns. The
/// memory is freed later by [`reap`].
pub fn exit_current() -> ! {
    let interrupts_off = InterruptsOff::new();
    let running = current();
    // SAFETY: interrupts off; the running thread is live.
    let entry = unsafe { thread_mut(&interrupts_off, running) };
    let clear_address = entry.exit_clear_address;
    if clear_address != 0 {
        // SAFETY: the libc gave an aligned 32-bit word that lives until the joiner saw
        // it zero (the joiner frees it only after that).
        let word = unsafe { &*(clear_address as *const AtomicU32) };
        word.store(0, Ordering::Release);
        futex::wake_locked(
            &interrupts_off,
            clear_address,
            usize::MAX,
            futex::BITSET_MATCH_ANY,
        );
    }
    SCHEDULER.with(&interrupts_off, |scheduler| {
        // SAFETY: as above.
        let entry = unsafe { thread_mut(&interrupts_off, running) };
        entry.state = State::Dead;
        scheduler.dead_cpu_time += entry.cpu_time;
    });
    schedule(&interrupts_off);
    // A dead thread is never queued again.
    unreachable!("a dead thread was scheduled")
}

/// Frees the memory of threads that have ended. Interrupts must be on (it calls the
/// allocator).
pub fn reap() {
    if !is_initialized() {
        return;
    }
    let interrupts_off = InterruptsOff::new();
    let running = current();
    let mut dead = SCHEDULER.with(&interrupts_off, |scheduler| {
        let mut dead: *mut Thread = null_mut();
        let mut link: *mut *mut Thread = &raw mut scheduler.all_head;
        loop {
            // SAFETY: interrupts off; `link` points at a list link field of the
            // scheduler or of a live thread.
            let thread = unsafe { *link };
            if thread.is_null() {
                break;
            }
            // SAFETY: as above.
            let entry = unsafe { thread_mut(&interrupts_off, thread) };
            if entry.state == State::Dead && thread != running {
                // SAFETY: unlink from the all-threads list.
                unsafe { *link = entry.all_next };
                entry.all_next = dead;
                dead = thread;
            } else {
                link = &raw mut entry.all_next;
            }
        }
        dead
    });
    drop(interrupts_off);
    while !dead.is_null() {
        // SAFETY: unlinked above: nothing else refers to the block; it came from
        // Box::into_raw in spawn.
        let thread = unsafe { Box::from_raw(dead) };
        dead = thread.all_next;
        if let Some((tls, layout)) = thread.tls {
            // SAFETY: allocated in spawn with this layout; the thread is gone.
            unsafe { alloc::alloc::dealloc(tls, layout) };
        }
        let mut thread = thread;
        if let Some(stack) = thread.stack.take() {
            stack::release(stack);
        }
        drop(thread);
    }
}

/// The running thread's id (1 before the scheduler starts).
pub fn current_id() -> ThreadId {
    if !is_initialized() {
        return 1;
    }
    let interrupts_off = InterruptsOff::new();
    // SAFETY: interrupts off; the running thread is live.
    unsafe { thread_mut(&interrupts_off, current()) }.id
}

/// Renames the thread `id` (15 bytes kept). False when no such thread.
pub fn set_name(id: ThreadId, name: &[u8]) -> bool {
    with_thread(id, |thread| thread.set_name(name)).is_some()
}

/// The name of thread `id` into `out` (NUL-terminated, truncated); its length.
pub fn name(id: ThreadId, out: &mut [u8; 16]) -> Option<usize> {
    with_thread(id, |thread| {
        *out = thread.name;
        thread.name().len()
    })
}

/// CPU time of the running thread, in nanoseconds.
pub fn thread_cpu_nanoseconds() -> u64 {
    if !is_initialized() {
        return arch::monotonic_nanoseconds();
    }
    let interrupts_off = InterruptsOff::new();
    // SAFETY: interrupts off; the running thread is live.
    let entry = unsafe { thread_mut(&interrupts_off, current()) };
    entry.cpu_time + arch::monotonic_nanoseconds().saturating_sub(entry.running_since)
}

/// CPU time of all the program's threads (the idle thread excluded), in nanoseconds.
pub fn process_cpu_nanoseconds() -> u64 {
    if !is_initialized() {
        return arch::monotonic_nanoseconds();
    }
    let interrupts_off = InterruptsOff::new();
    let now = arch::monotonic_nanoseconds();
    let running = current();
    SCHEDULER.with(&interrupts_off, |scheduler| {
        let mut total = scheduler.dead_cpu_time;
        let mut thread = scheduler.all_head;
        while !thread.is_null() {
            // SAFETY: interrupts off; threads in the list are live.
            let entry = unsafe { thread_mut(&interrupts_off, thread) };
            if entry.state != State::Dead {
                total += entry.cpu_time;
                if thread == running {
                    total += now.saturating_sub(entry.running_since);
                }
            }
            thread = entry.all_next;
        }
        total
    })
}

fn with_thread<R>(id: ThreadId, body: impl FnOnce(&mut Thread) -> R) -> Option<R> {
    // The main thread's name lives in its block, which the start makes.
    ensure_started().ok()?;
    let interrupts_off = InterruptsOff::new();
    SCHEDULER.with(&interrupts_off, |scheduler| {
        let mut thread = scheduler.all_head;
        while !thread.is_null() {
            // SAFETY: interrupts off; threads in the list are live.
            let entry = unsafe { thread_mut(&interrupts_off, thread) };
            if entry.id == id && entry.state != State::Dead {
                return Some(body(entry));
            }
            thread = entry.all_next;
        }
        None
    })
}

/// The thread whose stack guard contains `address`: its id and name, for the crash
/// report. Safe to call from an exception handler (reads only, no lock beyond
/// interrupts off, which an exception handler already has).
pub fn guard_page_owner(address: u64) -> Option<(ThreadId, [u8; 16])> {
    if !is_initialized() {
        return None;
    }
    let interrupts_off = InterruptsOff::new();
    // A fault inside the scheduler itself must not be reported as re-entry: read the
    // lists without the cell's borrow flag.
    // SAFETY: interrupts off; read-only walk of the list (exception context: the
    // faulting code is stopped for good).
    let mut thread = unsafe { (*SCHEDULER.value.get()).all_head };
    let idle = BOOT_CPU.idle.load(Ordering::Relaxed);
    // SAFETY: as above (the idle thread is live from initialize on).
    let idle_entry = unsafe { thread_mut(&interrupts_off, idle) };
    if idle_entry
        .stack
        .as_ref()
        .is_some_and(|stack| stack.guard_contains(address))
    {
        return Some((idle_entry.id, idle_entry.name));
    }
    while !thread.is_null() {
        // SAFETY: as above.
        let entry = unsafe { thread_mut(&interrupts_off, thread) };
        if entry
            .stack
            .as_ref()
            .is_some_and(|stack| stack.guard_contains(address))
        {
            return Some((entry.id, entry.name));
        }
        thread = entry.all_next;
    }
    None
}

/// Whether `address` lies in a live thread's stack (the crash report's backtrace reads
/// only there).
pub fn is_thread_stack_address(address: u64) -> bool {
    stack::is_in_stack_region(address) && arch::is_mapped(address)
}

/// The running thread's stack: `(lowest usable address, size)`.
pub fn current_stack() -> (usize, usize) {
    if !is_initialized() {
        let (bottom, top) = arch::boot_stack();
        return (bottom, top - bottom);
    }
    let interrupts_off = InterruptsOff::new();
    // SAFETY: interrupts off; the running thread is live.
    let (bottom, top) = unsafe { thread_mut(&interrupts_off, current()) }.stack_bounds;
    (bottom, top - bottom)
}

/// Stops zeroing and waking the running thread's exit word when it ends (a detached
/// thread frees the word's memory before it ends).
pub fn clear_exit_address() {
    if !is_initialized() {
        return;
    }
    let interrupts_off = InterruptsOff::new();
    // SAFETY: interrupts off; the running thread is live.
    unsafe { thread_mut(&interrupts_off, current()) }.exit_clear_address = 0;
}

/// The running thread's thread pointer (a unique, non-zero identity of the thread).
pub fn thread_pointer() -> usize {
    arch::thread_pointer()
}

/// 64 zero-initialised bytes of the running thread's TCB that belong to the libc (its
/// `errno` and per-thread pointer), at an address that depends on the arch's TLS
/// variant.
pub fn thread_data_area() -> usize {
    arch::thread_data_area()
}
