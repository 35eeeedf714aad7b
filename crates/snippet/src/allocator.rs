//! A small size-class allocator for the snippet's WebAssembly.
//!
//! Rust's default wasm allocator (dlmalloc) is about 6 KB of code; the snippet makes a
//! few thousand small, short-lived allocations per page view, so power-of-two size
//! classes with a free list each are enough: freed blocks are reused by the next
//! allocation of their class, fresh ones are cut from pages taken with `memory.grow`.
//! Memory is never given back to the browser (WebAssembly cannot shrink memory).
//!
//! The module is the snippet's only `unsafe` code: a global allocator cannot be written
//! without it. The WebAssembly build has one thread, so the state needs no lock.
#![allow(unsafe_code)]

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::null_mut;

const PAGE: usize = 65_536;
/// Block sizes are 2^3 (room for the free-list link) to 2^31.
const CLASSES: usize = 32;
/// Blocks are aligned to their size up to this; larger alignments are rare.
const MAX_NATURAL_ALIGN: usize = 64;

struct State {
    /// Head of each class's free list (0: empty). A free block holds the next link.
    free: [usize; CLASSES],
    /// The next unused byte of the current region, and its end.
    next: usize,
    end: usize,
}

struct Allocator(UnsafeCell<State>);

// SAFETY: wasm32-unknown-unknown without the atomics feature runs one thread.
unsafe impl Sync for Allocator {}

#[global_allocator]
static ALLOCATOR: Allocator = Allocator(UnsafeCell::new(State {
    free: [0; CLASSES],
    next: 0,
    end: 0,
}));

fn class(layout: Layout) -> usize {
    let size = layout.size().max(layout.align()).max(8);
    size.next_power_of_two().trailing_zeros() as usize
}

impl State {
    /// Cuts a fresh block of `size` bytes aligned to `align` from the region, growing
    /// memory when it does not fit.
    fn bump(&mut self, size: usize, align: usize) -> *mut u8 {
        let mut start = (self.next + align - 1) & !(align - 1);
        if self.end == 0 || start.checked_add(size).is_none_or(|e| e > self.end) {
            let pages = (size + align).div_ceil(PAGE);
            let previous = core::arch::wasm32::memory_grow::<0>(pages);
            if previous == usize::MAX {
                return null_mut();
            }
            let base = previous * PAGE;
            if base != self.end {
                // Someone else grew memory since: start a new region (the old tail
                // is left unused).
                self.next = base;
            }
            self.end = base + pages * PAGE;
            start = (self.next + align - 1) & !(align - 1);
        }
        self.next = start + size;
        start as *mut u8
    }
}

unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let c = class(layout);
        if c >= CLASSES {
            return null_mut();
        }
        // SAFETY: one thread, and no allocation re-enters the allocator.
        let state = unsafe { &mut *self.0.get() };
        let size = 1usize << c;
        let head = state.free[c];
        if head != 0 && layout.align() <= MAX_NATURAL_ALIGN {
            // SAFETY: `head` is a freed block of this class; its first word is the link.
            state.free[c] = unsafe { *(head as *const usize) };
            return head as *mut u8;
        }
        state.bump(size, layout.align().max(size.min(MAX_NATURAL_ALIGN)))
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let c = class(layout);
        // SAFETY: one thread; `ptr` came from `alloc` with this layout, so its block
        // is at least 8 bytes and aligned for a `usize`.
        let state = unsafe { &mut *self.0.get() };
        unsafe { *(ptr as *mut usize) = state.free[c] };
        state.free[c] = ptr as usize;
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size`, rounded up to `layout.align()`,
        // does not overflow.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if class(new_layout) == class(layout) {
            return ptr;
        }
        // SAFETY: as for `alloc` and `dealloc`; the blocks do not overlap.
        unsafe {
            let new = self.alloc(new_layout);
            if !new.is_null() {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}
