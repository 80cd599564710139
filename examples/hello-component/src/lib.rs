//! A small third-party component for rump_server, written against
//! plugin-api alone: it adds a writable sysctl string, `kern.hello.greeting`,
//! and a counter of how often it was read, `kern.hello.reads`.
//!
//! Build it with `cargo build -p hello-component`, then load it:
//!
//! ```text
//! rump_server -l target/debug/libhello_component.so unix://sock
//! RUMP_SERVER=unix://sock rump.sysctl -w kern.hello.greeting='good morning'
//! RUMP_SERVER=unix://sock rump.modstat hello
//! ```

use rump_plugin_api::abi_stable::std_types::RResult;
use rump_plugin_api::ffi::SysctlValue;
use rump_plugin_api::{export_plugin, Component, ComponentClass, Errno, SysctlData};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

/// The greeting and how often it was read.
#[derive(Default)]
struct Hello {
    greeting: Mutex<String>,
    reads: AtomicI32,
}

struct Greeting(Arc<Hello>);

impl SysctlValue for Greeting {
    fn get(&self) -> RResult<SysctlData, Errno> {
        self.0.reads.fetch_add(1, Ordering::Relaxed);
        let value = self
            .0
            .greeting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_str()
            .into();
        RResult::ROk(SysctlData::String {
            value,
            capacity: 64,
        })
    }

    fn set(&self, value: SysctlData) -> RResult<(), Errno> {
        match value {
            SysctlData::String { value, .. } => {
                *self.0.greeting.lock().unwrap_or_else(|p| p.into_inner()) = value.into();
                RResult::ROk(())
            }
            _ => RResult::RErr(Errno::EINVAL),
        }
    }
}

struct Reads(Arc<Hello>);

impl SysctlValue for Reads {
    fn get(&self) -> RResult<SysctlData, Errno> {
        RResult::ROk(SysctlData::Int(self.0.reads.load(Ordering::Relaxed)))
    }
}

fn components() -> Vec<Component> {
    vec![
        Component::new("hello", env!("CARGO_PKG_VERSION"), ComponentClass::Module)
            .description("an example component: kern.hello.greeting")
            .requires("rumpkern", "^0.1")
            .on_init(|kernel| {
                let hello = Arc::new(Hello {
                    greeting: Mutex::new("hello, world".into()),
                    ..Hello::default()
                });
                kernel
                    .register_sysctl(
                        "kern.hello.greeting",
                        "A greeting",
                        true,
                        Greeting(hello.clone()),
                    )
                    .map_err(|e| format!("kern.hello.greeting: {e}"))?;
                kernel
                    .register_sysctl(
                        "kern.hello.reads",
                        "Reads of the greeting",
                        false,
                        Reads(hello),
                    )
                    .map_err(|e| format!("kern.hello.reads: {e}"))?;
                kernel.info("ready");
                Ok(())
            }),
    ]
}

export_plugin!(components);
