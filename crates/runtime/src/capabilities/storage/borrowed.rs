//! `commit`, `stage` and `stage-events` over records that borrow the
//! plugin's memory ([`LiftedRecord`]), defined over the generated ones when
//! the linker is built: the same checks and writes, without a `String` per
//! field first (see `runtime::lifted` for what that costs).

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, WasmList};

use super::{CheckedBatch, StorageState, check_record_count};
use crate::bindings::WIT_VERSION;
use crate::capabilities::InvocationState;
use crate::lifted::LiftedRecord;
use oort_model::batch::RecordClass;

type Batch = (String, WasmList<LiftedRecord>, String);

/// Replaces the generated `commit`, `stage` and `stage-events` in `linker`
/// (call after the generated `add_to_linker`). Plugins of every supported
/// 0.1.x version link to these: wasmtime matches an import of
/// `storage@0.1.2` to the newest compatible `storage@0.1.x` defined.
pub(super) fn link_borrowed_records(
    linker: &mut Linker<InvocationState>,
    get: fn(&mut InvocationState) -> &mut StorageState,
) -> anyhow::Result<()> {
    linker.allow_shadowing(true);
    let mut storage = linker.instance(&format!("oort:integration/storage@{WIT_VERSION}"))?;
    storage.func_wrap_async(
        "commit",
        move |mut store, (source, records, checkpoint): Batch| {
            Box::new(async move {
                let checked = check(
                    &mut store,
                    &source,
                    RecordClass::State,
                    &records,
                    &checkpoint,
                )?;
                let result = get(store.data_mut()).commit_checked(source, checked, checkpoint);
                Ok((result.await?,))
            })
        },
    )?;
    for (name, class) in [
        ("stage", RecordClass::State),
        ("stage-events", RecordClass::Event),
    ] {
        storage.func_wrap_async(
            name,
            move |mut store, (source, records, checkpoint): Batch| {
                Box::new(async move {
                    let checked = check(&mut store, &source, class, &records, &checkpoint)?;
                    let result = get(store.data_mut()).stage_checked(source, checked, checkpoint);
                    Ok((result.await,))
                })
            },
        )?;
    }
    linker.allow_shadowing(false);
    Ok(())
}

/// Lifts the batch, its text still in the plugin's memory, and checks it.
/// Text that is not UTF-8 traps, as with the generated bindings. This runs
/// on the invocation's executor thread, not a blocking one (the text is
/// borrowed from the store). Its cost grows with the text, which the call's
/// transfer budget bounds (a 1,000-event Duo page: ~2.5 ms of CPU).
fn check(
    store: &mut StoreContextMut<'_, InvocationState>,
    source: &str,
    class: RecordClass,
    records: &WasmList<LiftedRecord>,
    checkpoint: &str,
) -> wasmtime::Result<CheckedBatch> {
    if let Err(e) = check_record_count(records.len()) {
        return Ok(Err(e));
    }
    // One transfer budget per call: wasmtime charged the arguments lifted so
    // far (the two strings, the list's elements at their host size) to it,
    // but starts `WasmList::iter` on the full budget again, so it gets only
    // what is left, and the call's budget is put back afterwards.
    let budget = store.hostcall_fuel();
    let spent = (source.len() + checkpoint.len())
        .saturating_add(records.len().saturating_mul(size_of::<LiftedRecord>()));
    store.set_hostcall_fuel(budget.saturating_sub(spent));
    let lifted = lift_all(store, records);
    store.set_hostcall_fuel(budget);
    let lifted = lifted?;
    // The records borrow the plugin's memory through `store`, so the state
    // is read through a shared borrow of the same store (the `get` of
    // `add_to_linker` needs a unique one).
    let store = &*store;
    let mut resolved = Vec::with_capacity(lifted.len());
    for record in lifted {
        resolved.push(record.resolve(store)?);
    }
    Ok(store
        .data()
        .storage
        .check_batch(source, class, &resolved, checkpoint))
}

/// The batch's records, their text not yet read.
fn lift_all(
    store: &mut StoreContextMut<'_, InvocationState>,
    records: &WasmList<LiftedRecord>,
) -> wasmtime::Result<Vec<LiftedRecord>> {
    // Sized up front: a `collect` through `Result` cannot see the length,
    // and growing a page's worth of records copies ~1 MB each time.
    let mut lifted = Vec::with_capacity(records.len());
    for record in records.iter(&mut *store)? {
        lifted.push(record?);
    }
    Ok(lifted)
}
