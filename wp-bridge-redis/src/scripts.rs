//! The Lua scripts, loaded once; `invoke_async` sends EVALSHA and falls back
//! to EVAL after a Redis restart (NOSCRIPT).

use std::sync::LazyLock;

use redis::Script;

pub(crate) static ENQUEUE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/enqueue.lua")));
pub(crate) static RESERVE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/reserve.lua")));
pub(crate) static SETTLE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/settle.lua")));
pub(crate) static DEPTH: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/depth.lua")));
pub(crate) static GCRA: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/gcra.lua")));
