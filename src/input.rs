//! Reading the files a user names (manifests, `leavers_csv`, the key file): regular
//! files only, never a FIFO or a device that would block or never end, and at most
//! a size limit (`--max-input-mib`, default 64 MiB) read into memory.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The default limit, in MiB.
pub const DEFAULT_MAX_MIB: u64 = 64;

static MAX_BYTES: AtomicU64 = AtomicU64::new(DEFAULT_MAX_MIB << 20);

/// Sets the limit for this process (`--max-input-mib`).
pub fn set_max_mib(mib: u64) {
    MAX_BYTES.store(mib.saturating_mul(1 << 20), Ordering::Relaxed);
}

/// Reads `path` whole, if it is a regular file no larger than the limit.
pub fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let limit = MAX_BYTES.load(Ordering::Relaxed);
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a directory",
        ));
    }
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a pipe, socket or device)",
        ));
    }
    let too_big = || {
        std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "larger than {} MiB (raise the limit with --max-input-mib)",
                limit >> 20
            ),
        )
    };
    if meta.len() > limit {
        return Err(too_big());
    }
    // Files such as those in /proc report no size: the limit holds while reading.
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn pipes_and_devices_are_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: creating a FIFO at a path we own.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        assert_eq!(
            read_file(&fifo).unwrap_err().kind(),
            std::io::ErrorKind::InvalidInput
        );
        assert_eq!(
            read_file(Path::new("/dev/zero")).unwrap_err().kind(),
            std::io::ErrorKind::InvalidInput
        );
        let file = dir.path().join("m.yaml");
        std::fs::write(&file, "version: 1\n").unwrap();
        assert_eq!(read_file(&file).unwrap(), b"version: 1\n");
    }
}
