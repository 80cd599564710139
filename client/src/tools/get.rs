//! rump.get [-Rv] kernel_source ... host_target: copies kernel files (and,
//! with -R, trees) out to the host with cp(1)'s target rules, keeping
//! owner, modes and times and copying symbolic links as links.

use super::copy::{transfer, Copier};
use super::fsops::{Host, Kernel};

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text = format!(
        "usage: {prog} [-Rv] kernel_source host_target\n       \
         {prog} [-Rv] kernel_source ... host_directory\n"
    );
    transfer(prog, args, &text, |client, opts, sources, target| {
        let k = Kernel(client);
        Copier::new(prog, &k, &Host, opts).run(sources, target)
    })
}
