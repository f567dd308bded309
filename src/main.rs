use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = offboard::cli::Cli::parse();
    offboard::exit::code(offboard::commands::run(cli))
}
