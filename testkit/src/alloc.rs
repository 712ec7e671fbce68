//! A counting global allocator for tests that measure heap use (bytes live right now).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

/// Wraps the system allocator and counts the bytes currently allocated through it. Install it
/// in a test binary that measures memory (one test per binary, so nothing else allocates
/// meanwhile):
///
/// ```
/// #[global_allocator]
/// static GLOBAL: kagari_testkit::CountingAlloc = kagari_testkit::CountingAlloc::new();
///
/// fn main() {
///     let before = GLOBAL.live();
///     let v = std::hint::black_box(vec![1u8; 4096]);
///     assert!(GLOBAL.live() - before >= 4096);
///     drop(v);
/// }
/// ```
#[derive(Debug)]
pub struct CountingAlloc {
    live: AtomicIsize,
}

impl CountingAlloc {
    /// A counter at zero.
    pub const fn new() -> CountingAlloc {
        CountingAlloc {
            live: AtomicIsize::new(0),
        }
    }

    /// Bytes allocated and not yet freed since the program started (negative only if memory
    /// allocated elsewhere was freed through it).
    pub fn live(&self) -> isize {
        self.live.load(Ordering::Relaxed)
    }

    fn add(&self, bytes: isize) {
        self.live.fetch_add(bytes, Ordering::Relaxed);
    }
}

impl Default for CountingAlloc {
    fn default() -> Self {
        CountingAlloc::new()
    }
}

/// `usize` → `isize` for byte counts (a layout's size never exceeds `isize::MAX`).
fn signed(n: usize) -> isize {
    isize::try_from(n).unwrap_or(isize::MAX)
}

// SAFETY: delegates every call to the system allocator with the caller's arguments and only
// counts sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.add(signed(layout.size()));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.add(signed(layout.size()));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.add(-signed(layout.size()));
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.add(signed(new_size) - signed(layout.size()));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(unsafe_code)]
    fn counts_alloc_realloc_and_dealloc() {
        let a = CountingAlloc::new();
        let layout = Layout::from_size_align(64, 8).unwrap();
        // SAFETY: a non-zero layout; the pointer is freed with the layout it has then.
        unsafe {
            let p = a.alloc(layout);
            assert!(!p.is_null());
            assert_eq!(a.live(), 64);
            let p = a.realloc(p, layout, 200);
            assert!(!p.is_null());
            assert_eq!(a.live(), 200);
            a.dealloc(p, Layout::from_size_align(200, 8).unwrap());
        }
        assert_eq!(a.live(), 0);
    }
}
