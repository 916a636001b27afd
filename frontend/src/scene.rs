//! The 3D view: a Leptos-owned `<canvas>` drawn by three-d (WebGL2), with HTML labels laid over
//! it at the projected positions of the things they name.
//!
//! The GL state is not `Send`, so it lives in `StoredValue::new_local`; frames are driven by
//! `requestAnimationFrame`. On unmount (or a switch to 2D) the frame loop stops, the GL objects
//! are dropped and the context is released. If the context cannot be created or is lost, `fail`
//! says why and the page falls back to cards.
//!
//! - [`live`]: the GL context, the three-d objects, one frame.
//! - [`projection`]: labels placed over their points; picking a worker by its cube.
//! - [`node_label`]: a worker's label and the mark on its link.
//! - [`frame_loop`]: `requestAnimationFrame` until stopped.
//! - [`stats`]: frame figures on `window`, for the figures example.

mod frame_loop;
mod live;
mod node_label;
mod projection;
mod stats;

use std::cell::RefCell;
use std::rc::Rc;

use leptos::html::{Canvas, Div};
use leptos::prelude::*;
use pulseboard_shared::layout::{layout_folded, Fold};
use pulseboard_shared::Condition;
use wasm_bindgen::JsCast;
use web_sys::{PointerEvent, WheelEvent};

use self::frame_loop::FrameLoop;
use self::live::Live;
use self::node_label::NodeLabel;
use crate::glance::lens;
use crate::page::reduced_motion;
use crate::stream::feed;
use crate::text::{folded, lang, t, Text};

/// The order labels claim room in (lowest first, see `projection`): problem workers by urgency
/// (0..), their link marks (+[`MARK_RANK`]), hosts and the bus, then everyone else
/// ([`QUIET_RANK`]..) and their marks.
const HOST_RANK: u32 = 20;
/// Added to a worker's rank for the mark on its link.
const MARK_RANK: u32 = 10;
/// Where workers without a problem start.
const QUIET_RANK: u32 = 30;
/// Labels ranked below this move aside to find room rather than hide.
const NUDGED_BELOW: u32 = HOST_RANK;

/// The 3D view of the fleet.
#[component]
pub fn Scene(
    select: WriteSignal<Option<String>>,
    fail: WriteSignal<Option<Text>>,
) -> impl IntoView {
    let (feed, lang, lens) = (feed(), lang(), lens());
    // Hosts the user opened while the fleet is folded.
    let open = RwSignal::new(Vec::<String>::new());
    let canvas_ref = NodeRef::<Canvas>::new();
    let overlay_ref = NodeRef::<Div>::new();
    let live = StoredValue::new_local(None::<Rc<RefCell<Live>>>);
    let frames = StoredValue::new_local(None::<FrameLoop>);
    let scene = Memo::new(move |_| {
        let fold = Fold {
            open: open.get(),
            ..Fold::default()
        };
        feed.nodes
            .with(|n| n.as_ref().map(|n| layout_folded(n, &fold)))
    });
    let redis_ok = Memo::new(move |_| feed.nodes.with(|n| n.as_ref().is_none_or(|n| n.redis_ok)));

    Effect::new(move |_| {
        let (Some(canvas), Some(overlay)) = (canvas_ref.get(), overlay_ref.get()) else {
            return;
        };
        if live.with_value(Option::is_some) {
            return;
        }
        match Live::start(canvas, overlay.into(), fail) {
            Ok(state) => {
                let state = Rc::new(RefCell::new(state));
                if let Some(l) = scene.get_untracked() {
                    state.borrow_mut().show(l, redis_ok.get_untracked());
                }
                frames.set_value(Some(FrameLoop::start(state.clone())));
                live.set_value(Some(state));
            }
            Err(why) => {
                leptos::logging::warn!("3D view unavailable: {why}");
                fail.set(Some(Text::NoWebgl));
            }
        }
    });
    Effect::new(move |_| {
        let (Some(l), ok) = (scene.get(), redis_ok.get()) else {
            return;
        };
        live.with_value(|s| {
            if let Some(s) = s {
                s.borrow_mut().show(l, ok);
            }
        });
    });
    // Label texts change width with new data, the language or the lens: place them again.
    Effect::new(move |_| {
        feed.nodes.track();
        lang.track();
        lens.filter.track();
        live.with_value(|s| {
            if let Some(s) = s {
                s.borrow_mut().dirty = true;
            }
        });
    });
    on_cleanup(move || {
        frames.update_value(|f| {
            if let Some(f) = f.take() {
                f.stop();
            }
        });
        live.update_value(|s| {
            if let Some(s) = s.take() {
                s.borrow_mut().release();
            }
        });
    });

    let with_live = move |f: &dyn Fn(&mut Live)| {
        live.with_value(|s| {
            if let Some(s) = s {
                f(&mut s.borrow_mut());
            }
        })
    };
    let on_down = move |ev: PointerEvent| {
        let _ = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .map(|el| el.set_pointer_capture(ev.pointer_id()));
        with_live(&|l| {
            l.orbit
                .pointer_down(ev.pointer_id(), ev.offset_x().into(), ev.offset_y().into())
        });
    };
    let on_move = move |ev: PointerEvent| {
        with_live(&|l| {
            let (x, y) = (ev.offset_x().into(), ev.offset_y().into());
            if l.orbit.pointer_move(ev.pointer_id(), x, y) {
                l.dirty = true;
            } else if ev.buttons() == 0 {
                let hovered = l.pick(x, y);
                if hovered != l.hovered {
                    l.hovered = hovered;
                    l.dirty = true;
                }
            }
        });
    };
    let on_up = move |ev: PointerEvent| {
        with_live(&|l| {
            l.orbit.pointer_up(ev.pointer_id());
            if l.orbit.travel < 6.0 {
                if let Some(name) = l.pick(ev.offset_x().into(), ev.offset_y().into()) {
                    select.set(Some(name));
                }
            }
        });
    };
    let on_wheel = move |ev: WheelEvent| {
        ev.prevent_default();
        with_live(&|l| {
            l.orbit.zoom_by((ev.delta_y() as f32 * 0.0015).exp());
            l.dirty = true;
        });
    };
    let reset = move |_| {
        with_live(&|l| {
            l.orbit.reset();
            l.dirty = true;
        })
    };

    // Labels for the workers drawn (folded hosts draw only their problems) that the lens admits.
    let workers = move || {
        let filter = lens.filter.get();
        scene.with(|l| {
            let Some(l) = l else { return vec![] };
            let drawn: std::collections::HashSet<&str> =
                l.workers.iter().map(|w| w.name.as_str()).collect();
            feed.nodes.with(|n| {
                n.as_ref().map_or(vec![], |n| {
                    n.workers
                        .iter()
                        .filter(|w| drawn.contains(w.name.as_str()))
                        .filter(|w| filter.admits(w, Condition::of(w)))
                        .cloned()
                        .collect()
                })
            })
        })
    };
    // Each host with how many of its workers it folds away; the queue host holds none.
    let hosts = move || {
        scene.with(|l| {
            l.as_ref().map_or(vec![], |l| {
                l.hosts
                    .iter()
                    .map(|h| (h.name.clone(), h.folded, h.queue_host))
                    .collect::<Vec<_>>()
            })
        })
    };
    let folding = move || {
        feed.nodes.with(|n| {
            n.as_ref()
                .is_some_and(|n| n.workers.len() > Fold::default().over)
        })
    };
    let toggle_host = move |name: String| {
        open.update(|open| match open.iter().position(|h| *h == name) {
            Some(at) => {
                open.remove(at);
            }
            None => open.push(name),
        })
    };
    // What a host is called: its configured label (contract 2's `hosts`), else its name.
    let host_title = move |name: &str| {
        if name == "?" {
            return t(lang.get(), Text::NoHost).to_owned();
        }
        feed.nodes.with(|n| {
            n.as_ref()
                .map_or_else(|| name.to_owned(), |n| n.host_label(name).to_owned())
        })
    };

    view! {
        <div class="scene" data-motion=if reduced_motion() { "reduced" } else { "full" }>
            <canvas
                node_ref=canvas_ref
                id="scene-canvas"
                on:pointerdown=on_down
                on:pointermove=on_move
                on:pointerup=on_up
                on:pointercancel=move |ev: PointerEvent| with_live(&|l| l.orbit.pointer_up(ev.pointer_id()))
                on:wheel=on_wheel
            ></canvas>
            <div class="overlay" node_ref=overlay_ref
                class:dense=move || feed.nodes.with(|n| n.as_ref().is_some_and(|n| n.workers.len() > 12))>
                <span class="bus-label anchored" data-anchor="bus" data-rank=HOST_RANK + 1>
                    {move || t(lang.get(), Text::Bus)}
                </span>
                <For each=hosts key=|h| h.clone() let((name, hidden, queues))>
                    <button
                        class="host-label anchored"
                        data-anchor=format!("h:{name}")
                        data-host=name.clone()
                        data-rank=HOST_RANK
                        data-folded=hidden.to_string()
                        disabled=move || queues || !folding()
                        on:click={let name = name.clone(); move |_| toggle_host(name.clone())}
                    >
                        {let name = name.clone(); move || host_title(&name)}
                        {move || match (hidden, folding() && !queues) {
                            (0, true) => " ▾".to_owned(),
                            (0, false) => String::new(),
                            (n, _) => format!(" · {}", folded(lang.get(), n)),
                        }}
                    </button>
                </For>
                <For each=workers key=|w| w.name.clone() let(first)>
                    <NodeLabel worker=feed.latest(first) select/>
                </For>
            </div>
            <button id="reset-view" class="control" on:click=reset>{move || t(lang.get(), Text::Reset)}</button>
        </div>
    }
}
