//! The fleet at a glance, always in view: how many workers, how many need attention, a count per
//! condition (each one a filter), the totals of the queues, a search by name and the grouping.
//! What it selects (the [`Lens`]) is shared with both views.

use leptos::prelude::*;
use pulseboard_shared::arrange::{Filter, Group};
use pulseboard_shared::summary::ConditionCount;
use pulseboard_shared::{Condition, Summary};

use crate::stream::feed;
use crate::text::{condition_name, lang, queue_figures, t, Text};

/// What the operator chose to see, for both views.
#[derive(Clone, Copy)]
pub struct Lens {
    /// Conditions, search and grouping.
    pub filter: RwSignal<Filter>,
}

impl Lens {
    /// A new lens, shared with every component below.
    pub fn provide() -> Self {
        let lens = Self {
            filter: RwSignal::new(Filter::default()),
        };
        provide_context(lens);
        lens
    }
}

/// The page's lens, as provided by the app.
pub fn lens() -> Lens {
    expect_context()
}

/// The summary bar.
#[component]
pub fn SummaryBar() -> impl IntoView {
    let (feed, lang, lens) = (feed(), lang(), lens());
    let summary = Memo::new(move |_| {
        feed.nodes.with(|n| {
            n.as_ref().map_or_else(Summary::default, |n| {
                n.summary.clone().unwrap_or_else(|| Summary::of(&n.workers))
            })
        })
    });
    let chosen = move || lens.filter.with(|f| f.conditions.clone());
    let toggle = move |c: Condition| {
        lens.filter
            .update(|f| match f.conditions.iter().position(|x| *x == c) {
                Some(at) => {
                    f.conditions.remove(at);
                }
                None => f.conditions.push(c),
            })
    };
    // "Need attention" chooses every problem present; again, it shows everything.
    let problems_only = move |_| {
        let problems: Vec<Condition> = summary.with(|s| {
            s.conditions
                .iter()
                .map(|c| c.condition)
                .filter(|c| c.is_problem())
                .collect()
        });
        lens.filter.update(|f| {
            f.conditions = if f.conditions == problems {
                vec![]
            } else {
                problems
            }
        });
    };
    let problems = move || summary.with(|s| s.problems);
    let say = move |text: Text| move || t(lang.get(), text);
    let totals = move || {
        let l = lang.get();
        summary.with(|s| queue_figures(l, s.queue_depth, s.processing, s.dead_letter))
    };

    view! {
        <nav id="summary" aria-label=say(Text::Fleet)>
            <button
                class="chip all"
                data-condition="all"
                aria-pressed=move || chosen().is_empty().to_string()
                on:click=move |_| lens.filter.update(|f| f.conditions.clear())
            >
                <b class="count">{move || summary.with(|s| s.workers)}</b>
                " "
                {say(Text::Workers)}
            </button>
            <button
                id="verdict"
                class="chip verdict"
                data-problems=move || problems().to_string()
                on:click=problems_only
            >
                {move || match problems() {
                    0 => format!("✓ {}", t(lang.get(), Text::AllClear)),
                    n => format!("⚠ {n} {}", t(lang.get(), Text::NeedAttention)),
                }}
            </button>
            <For
                each=move || summary.with(|s| s.conditions.clone())
                key=|c: &ConditionCount| (c.condition, c.count)
                let(c)
            >
                <button
                    class="chip"
                    data-condition=c.condition.as_str()
                    data-problem=c.condition.is_problem().to_string()
                    aria-pressed=move || chosen().contains(&c.condition).to_string()
                    on:click=move |_| toggle(c.condition)
                >
                    <b class="count">{c.count}</b>
                    " "
                    {move || condition_name(lang.get(), c.condition)}
                </button>
            </For>
            <span id="totals" class="totals">{totals}</span>
            <span class="finders">
                <input
                    id="search"
                    type="search"
                    autocomplete="off"
                    placeholder=say(Text::Search)
                    aria-label=say(Text::Search)
                    prop:value=move || lens.filter.with(|f| f.search.clone())
                    on:input=move |ev| lens.filter.update(|f| f.search = event_target_value(&ev))
                />
                <select
                    id="group"
                    aria-label=say(Text::Group)
                    on:change=move |ev| {
                        lens.filter.update(|f| f.group = Group::parse(&event_target_value(&ev)))
                    }
                >
                    <option value="none">{say(Text::GroupNone)}</option>
                    <option value="host">{say(Text::GroupHost)}</option>
                    <option value="kind">{say(Text::GroupKind)}</option>
                </select>
            </span>
        </nav>
    }
}
