//! The root module every component library exports.

use crate::component::{Component, ComponentDesc};
use abi_stable::{
    declare_root_module_statics, library::RootModule, package_version_strings,
    sabi_types::VersionStrings, std_types::RVec, StableAbi,
};

/// What a library exports: the list of its components.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    #[sabi(last_prefix_field)]
    pub components: extern "C" fn() -> RVec<ComponentDesc>,
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "rump_plugin";
    const NAME: &'static str = "rump_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

/// Builds the root module around a library's `components` entry.
pub fn make_root(components: extern "C" fn() -> RVec<ComponentDesc>) -> PluginModRef {
    use abi_stable::prefix_type::PrefixTypeTrait;
    PluginMod { components }.leak_into_prefix()
}

/// Runs a library's component list function under a panic guard.
pub fn collect(f: fn() -> Vec<Component>) -> RVec<ComponentDesc> {
    crate::guard::guard_or("component list", Vec::new(), f)
        .into_iter()
        .map(Component::into_desc)
        .collect()
}

/// Exports a library's components. `$list` is a `fn() -> Vec<Component>`.
///
/// The expansion uses abi_stable's export attribute, so the library needs
/// `abi_stable` as a direct dependency as well as this crate.
#[macro_export]
macro_rules! export_plugin {
    ($list:path) => {
        #[::abi_stable::export_root_module]
        pub fn rump_plugin_root() -> $crate::PluginModRef {
            extern "C" fn __rump_plugin_components(
            ) -> $crate::abi_stable::std_types::RVec<$crate::component::ComponentDesc> {
                $crate::root::collect($list)
            }
            $crate::root::make_root(__rump_plugin_components)
        }
    };
}
