//! `requestAnimationFrame`, every frame, until stopped.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::{closure::Closure, JsCast};

use super::live::Live;

type FrameCallback = Rc<RefCell<Option<Closure<dyn FnMut(f64)>>>>;

/// `requestAnimationFrame`, every frame, until stopped.
pub(super) struct FrameLoop {
    callback: FrameCallback,
    id: Rc<std::cell::Cell<i32>>,
}

impl FrameLoop {
    pub(super) fn start(live: Rc<RefCell<Live>>) -> Self {
        let callback: FrameCallback = Rc::new(RefCell::new(None));
        let id = Rc::new(std::cell::Cell::new(0));
        let (again, next_id) = (callback.clone(), id.clone());
        *callback.borrow_mut() = Some(Closure::new(move |t: f64| {
            live.borrow_mut().frame(t);
            if let Some(cb) = again.borrow().as_ref() {
                next_id.set(request_frame(cb));
            }
        }));
        if let Some(cb) = callback.borrow().as_ref() {
            id.set(request_frame(cb));
        }
        Self { callback, id }
    }

    /// Cancels the pending frame and drops the callback (which breaks its reference cycle).
    pub(super) fn stop(self) {
        if let Some(w) = web_sys::window() {
            let _ = w.cancel_animation_frame(self.id.get());
        }
        self.callback.borrow_mut().take();
    }
}

fn request_frame(cb: &Closure<dyn FnMut(f64)>) -> i32 {
    web_sys::window()
        .and_then(|w| w.request_animation_frame(cb.as_ref().unchecked_ref()).ok())
        .unwrap_or(0)
}
