fn main() -> std::process::ExitCode {
    migration_gate::cli::main()
}
