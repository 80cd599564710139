//! Component descriptions: what a library provides and what it needs.

use crate::ffi::{ComponentEntry, ComponentEntry_TO};
use crate::guard;
use crate::kernel::{Kernel, KernelObj};
use crate::vfs::FsType;
use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RBox, RResult, RString, RVec},
    StableAbi,
};

/// What kind of component it is; decides how modstat shows it.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ComponentClass {
    /// A kernel faction (vfs, net, dev): a set of subsystems and syscalls.
    Faction,
    /// A file system type.
    Fs,
    /// A device driver.
    Dev,
    /// Any other loadable kernel module.
    Module,
    /// A security model.
    Secmodel,
}

impl ComponentClass {
    /// The lower-case name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            ComponentClass::Faction => "faction",
            ComponentClass::Fs => "fs",
            ComponentClass::Dev => "dev",
            ComponentClass::Module => "module",
            ComponentClass::Secmodel => "secmodel",
        }
    }
}

/// A dependency on another component: its name and a semver requirement
/// on its version (for example `^0.1`).
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub name: RString,
    pub version: RString,
}

/// A component as it crosses the library boundary.
#[repr(C)]
#[derive(StableAbi)]
pub struct ComponentDesc {
    pub name: RString,
    pub version: RString,
    pub class: ComponentClass,
    pub description: RString,
    pub requires: RVec<Requirement>,
    pub entry: ComponentEntry_TO<'static, RBox<()>>,
}

/// The versions of the VFS faction that file systems of this API work
/// with.
pub const VFS_REQUIREMENT: &str = "^0.1";

type InitFn = Box<dyn Fn(&Kernel) -> Result<(), String> + Send + Sync>;
type FiniFn = Box<dyn Fn() -> Result<(), String> + Send + Sync>;

/// A component, as its author describes it.
///
/// ```
/// use rump_plugin_api::{Component, ComponentClass};
/// let c = Component::new("hello", "0.1.0", ComponentClass::Module)
///     .description("says hello")
///     .requires("rumpkern", "^0.1")
///     .on_init(|kernel| {
///         kernel.info("hello");
///         Ok(())
///     });
/// assert_eq!(c.name(), "hello");
/// ```
pub struct Component {
    name: String,
    version: String,
    class: ComponentClass,
    description: String,
    requires: Vec<(String, String)>,
    init: InitFn,
    fini: FiniFn,
}

impl Component {
    /// A component with no requirements whose init does nothing.
    pub fn new(name: &str, version: &str, class: ComponentClass) -> Self {
        Component {
            name: name.to_string(),
            version: version.to_string(),
            class,
            description: String::new(),
            requires: Vec::new(),
            init: Box::new(|_| Ok(())),
            fini: Box::new(|| Ok(())),
        }
    }

    /// A file system component: class [`ComponentClass::Fs`], needing
    /// the VFS faction (`rumpvfs`), registering the type `make` returns
    /// when the kernel activates it.
    ///
    pub fn file_system<T: FsType>(
        name: &str,
        version: &str,
        description: &str,
        make: impl Fn() -> T + Send + Sync + 'static,
    ) -> Self {
        let what = format!("registering {name}");
        Component::new(name, version, ComponentClass::Fs)
            .description(description)
            .requires("rumpvfs", VFS_REQUIREMENT)
            .on_init(move |kernel| {
                kernel
                    .register_fs_type(make())
                    .map_err(|e| format!("{what}: {e}"))
            })
    }

    /// The component's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A one-line description for modstat and logs.
    pub fn description(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }

    /// Declares that this component needs `name` at a version matching
    /// the semver requirement `version`.
    pub fn requires(mut self, name: &str, version: &str) -> Self {
        self.requires.push((name.to_string(), version.to_string()));
        self
    }

    /// Sets the init entry, run once when the kernel activates the
    /// component (at boot, or at first use when its requirements arrive
    /// late).
    pub fn on_init(
        mut self,
        f: impl Fn(&Kernel) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.init = Box::new(f);
        self
    }

    /// Sets the fini entry, run when the component is unloaded.
    pub fn on_fini(mut self, f: impl Fn() -> Result<(), String> + Send + Sync + 'static) -> Self {
        self.fini = Box::new(f);
        self
    }

    /// Converts into the form that crosses the library boundary.
    pub fn into_desc(self) -> ComponentDesc {
        let requires = self
            .requires
            .iter()
            .map(|(n, v)| Requirement {
                name: n.as_str().into(),
                version: v.as_str().into(),
            })
            .collect();
        ComponentDesc {
            name: self.name.as_str().into(),
            version: self.version.as_str().into(),
            class: self.class,
            description: self.description.as_str().into(),
            requires,
            entry: ComponentEntry_TO::from_value(
                Entry {
                    name: self.name,
                    init: self.init,
                    fini: self.fini,
                },
                TD_Opaque,
            ),
        }
    }
}

struct Entry {
    name: String,
    init: InitFn,
    fini: FiniFn,
}

impl ComponentEntry for Entry {
    fn init(&self, kernel: KernelObj) -> RResult<(), RString> {
        let kernel = Kernel::from_obj(kernel);
        crate::kernel::install(&kernel);
        guard::guard_msg("init", &kernel, || (self.init)(&kernel))
            .map_err(RString::from)
            .into()
    }

    fn fini(&self) -> RResult<(), RString> {
        let kernel = crate::kernel::try_kernel()
            .cloned()
            .ok_or_else(|| RString::from("not initialised"));
        let kernel = match kernel {
            Ok(k) => k,
            Err(e) => return RResult::RErr(e),
        };
        guard::guard_msg(&format!("{}: fini", self.name), &kernel, || (self.fini)())
            .map_err(RString::from)
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfs::{MountArgs, MountEnv, MountObj};
    use crate::{Errno, KResult};

    struct NoFs;

    impl FsType for NoFs {
        fn name(&self) -> &str {
            "nofs"
        }

        fn args_len(&self) -> usize {
            0
        }

        fn mount(&self, _: MountArgs<'_, '_>, _: &mut MountEnv<'_>) -> KResult<MountObj> {
            Err(Errno::EOPNOTSUPP)
        }
    }

    #[test]
    fn a_file_system_component_needs_the_vfs() {
        let d = Component::file_system("nofs", "1.2.3", "nothing", || NoFs).into_desc();
        assert_eq!(d.name.as_str(), "nofs");
        assert_eq!(d.version.as_str(), "1.2.3");
        assert_eq!(d.description.as_str(), "nothing");
        assert_eq!(d.class, ComponentClass::Fs);
        assert_eq!(d.requires.len(), 1);
        assert_eq!(d.requires[0].name.as_str(), "rumpvfs");
        assert_eq!(d.requires[0].version.as_str(), VFS_REQUIREMENT);
    }
}
