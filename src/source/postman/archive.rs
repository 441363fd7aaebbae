//! The zip form of Postman's "Export data": a folder of collections,
//! environments and globals, zipped. Entries are read with bounds, so a zip
//! bomb is a recorded skip, not an out-of-memory.

use std::io::{Cursor, Read};

/// Largest entry read, uncompressed.
pub const MAX_ENTRY: u64 = 256 << 20;
/// Most bytes read from one archive, uncompressed.
pub const MAX_TOTAL: u64 = 1 << 30;

/// One JSON entry of an archive.
#[derive(Debug)]
pub struct Entry {
    /// `archive.zip!/path/in/archive.json`.
    pub path: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Why an archive (or one of its entries) was not read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Not a readable zip.
    #[error("not a readable zip archive: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// An entry larger than [`MAX_ENTRY`] or an archive past [`MAX_TOTAL`].
    #[error("entry {0} is too large to read ({1} bytes uncompressed)")]
    TooLarge(String, u64),
    /// An entry could not be decompressed.
    #[error("entry {0} cannot be read: {1}")]
    Read(String, std::io::Error),
}

/// Whether `path` names a zip archive.
pub fn is_archive(path: &str) -> bool {
    path.to_ascii_lowercase().ends_with(".zip")
}

/// The `.json` entries of the zip archive `bytes` named `path`. Entries that
/// cannot be read are returned as errors beside the ones that could.
///
/// # Errors
/// When the archive itself cannot be opened.
pub fn json_entries(
    path: &str,
    bytes: &[u8],
) -> Result<(Vec<Entry>, Vec<ArchiveError>), ArchiveError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))?;
    let (mut entries, mut errors, mut total) = (Vec::new(), Vec::new(), 0u64);
    for i in 0..zip.len() {
        let mut file = match zip.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                errors.push(ArchiveError::Zip(e));
                continue;
            }
        };
        let name = match file.name() {
            Ok(n) => n.to_string(),
            Err(e) => {
                errors.push(ArchiveError::Zip(e));
                continue;
            }
        };
        if file.is_dir() || !name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        let shown = format!("{path}!/{name}");
        let size = file.size();
        if size > MAX_ENTRY || total + size > MAX_TOTAL {
            errors.push(ArchiveError::TooLarge(shown, size));
            continue;
        }
        let mut buf = Vec::with_capacity(size as usize);
        // The declared size may lie: read one byte past it at most.
        match (&mut file).take(MAX_ENTRY + 1).read_to_end(&mut buf) {
            Ok(n) if n as u64 > MAX_ENTRY => errors.push(ArchiveError::TooLarge(shown, n as u64)),
            Ok(n) => {
                total += n as u64;
                entries.push(Entry {
                    path: shown,
                    bytes: buf,
                });
            }
            Err(e) => errors.push(ArchiveError::Read(shown, e)),
        }
    }
    Ok((entries, errors))
}
