//! rump_server: a rump kernel that loads only the components -l names.

fn main() {
    std::process::exit(rump_host::app::main(rump_host::cli::Flavor::Server));
}
