//! The zip archive a bulk download produces: the selected files, and the selected
//! folders with everything below them, stored under their titles.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;

use crate::state::Portal;

pub fn archive(portal: &Portal, folders: &[i64], files: &[i64]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for id in files {
        if let Some(file) = portal.files.get(id) {
            entries.push((file.title.clone(), file.content.clone()));
        }
    }
    for id in folders {
        collect(portal, *id, "", &mut entries);
    }
    for (name, content) in entries {
        // Writing into memory cannot fail but on a broken archive; skip such entries.
        if writer.start_file(name, options).is_ok() {
            let _ = writer.write_all(&content);
        }
    }
    writer.finish().map(Cursor::into_inner).unwrap_or_default()
}

fn collect(portal: &Portal, folder: i64, prefix: &str, entries: &mut Vec<(String, Vec<u8>)>) {
    let Some(f) = portal.folders.get(&folder) else {
        return;
    };
    let path = format!("{prefix}{}/", f.title);
    for file in portal.files.values().filter(|x| x.folder == folder) {
        entries.push((format!("{path}{}", file.title), file.content.clone()));
    }
    let children: Vec<i64> = portal
        .folders
        .values()
        .filter(|x| x.parent == folder)
        .map(|x| x.id)
        .collect();
    for child in children {
        collect(portal, child, &path, entries);
    }
}
