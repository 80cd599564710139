//! Messages to the kernel log (nothing before the component is
//! initialised, as in unit tests).

use rump_plugin_api::LogLevel;

fn log(level: LogLevel, msg: &str) {
    if let Some(k) = rump_plugin_api::kernel::try_kernel() {
        k.log(level, msg);
    }
}

pub fn warn(msg: &str) {
    log(LogLevel::Warn, msg);
}
