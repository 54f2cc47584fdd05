//! What a ticket may carry as an attachment: screenshots, photos of a damaged parcel, an
//! invoice (PDF, or OFD, China's e-invoice format), office documents, a voice note.
//!
//! The type is decided by an allow-list of extensions whose contents must start the way that
//! format starts, never by the type the browser declares: an executable renamed `photo.png`
//! fails the PNG check, and a page, a script or an SVG (which can carry script) is refused
//! outright. What is stored is served back with the type decided here and `nosniff`.

use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;

/// Longest stored file name, in characters (the rest of a longer one is cut, the extension kept).
pub const MAX_FILE_NAME: usize = 120;
/// Most files on one message.
pub const MAX_FILES: usize = 3;
/// The per-file size limit when the desk has not set one.
pub const DEFAULT_MAX_KB: i64 = 10 * 1024;
/// The largest per-file limit an admin may set.
pub const CEILING_KB: i64 = 20 * 1024;

/// How a format's contents begin.
#[derive(Debug, Clone, Copy)]
enum Magic {
    /// These bytes at this offset.
    At(usize, &'static [u8]),
    /// `RIFF` then, at offset 8, this form type.
    Riff(&'static [u8]),
    /// An ISO media file (`ftyp` box at offset 4).
    IsoMedia,
    /// An MP3: an ID3 tag or an MPEG audio frame sync.
    Mp3,
    /// Text: no NUL byte in the first 8 KB and valid UTF-8 or GB18030-looking bytes.
    Text,
}

/// One accepted format.
struct Format {
    extensions: &'static [&'static str],
    content_type: &'static str,
    magic: &'static [Magic],
    inline: bool,
}

const ZIP: Magic = Magic::At(0, b"PK\x03\x04");
const OLE: Magic = Magic::At(0, b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1");

const FORMATS: &[Format] = &[
    Format {
        extensions: &["png"],
        content_type: "image/png",
        magic: &[Magic::At(0, b"\x89PNG\r\n\x1a\n")],
        inline: true,
    },
    Format {
        extensions: &["jpg", "jpeg"],
        content_type: "image/jpeg",
        magic: &[Magic::At(0, b"\xFF\xD8\xFF")],
        inline: true,
    },
    Format {
        extensions: &["gif"],
        content_type: "image/gif",
        magic: &[Magic::At(0, b"GIF87a"), Magic::At(0, b"GIF89a")],
        inline: true,
    },
    Format {
        extensions: &["webp"],
        content_type: "image/webp",
        magic: &[Magic::Riff(b"WEBP")],
        inline: true,
    },
    Format {
        extensions: &["pdf"],
        content_type: "application/pdf",
        magic: &[Magic::At(0, b"%PDF-")],
        inline: false,
    },
    Format {
        extensions: &["ofd"],
        content_type: "application/ofd",
        magic: &[ZIP],
        inline: false,
    },
    Format {
        extensions: &["txt", "log"],
        content_type: "text/plain; charset=utf-8",
        magic: &[Magic::Text],
        inline: false,
    },
    Format {
        extensions: &["csv"],
        content_type: "text/csv; charset=utf-8",
        magic: &[Magic::Text],
        inline: false,
    },
    Format {
        extensions: &["docx"],
        content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        magic: &[ZIP],
        inline: false,
    },
    Format {
        extensions: &["xlsx"],
        content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        magic: &[ZIP],
        inline: false,
    },
    Format {
        extensions: &["pptx"],
        content_type: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        magic: &[ZIP],
        inline: false,
    },
    Format {
        extensions: &["doc"],
        content_type: "application/msword",
        magic: &[OLE],
        inline: false,
    },
    Format {
        extensions: &["xls"],
        content_type: "application/vnd.ms-excel",
        magic: &[OLE],
        inline: false,
    },
    Format {
        extensions: &["mp3"],
        content_type: "audio/mpeg",
        magic: &[Magic::Mp3],
        inline: false,
    },
    Format {
        extensions: &["wav"],
        content_type: "audio/wav",
        magic: &[Magic::Riff(b"WAVE")],
        inline: false,
    },
    Format {
        extensions: &["amr"],
        content_type: "audio/amr",
        magic: &[Magic::At(0, b"#!AMR")],
        inline: false,
    },
    Format {
        extensions: &["m4a", "mp4", "mov"],
        content_type: "video/mp4",
        magic: &[Magic::IsoMedia],
        inline: false,
    },
];

impl Magic {
    fn matches(self, b: &[u8]) -> bool {
        match self {
            Magic::At(at, sig) => b.get(at..at + sig.len()) == Some(sig),
            Magic::Riff(form) => b.starts_with(b"RIFF") && b.get(8..12) == Some(form),
            Magic::IsoMedia => b.get(4..8) == Some(b"ftyp"),
            Magic::Mp3 => {
                b.starts_with(b"ID3") || (b.len() > 1 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0)
            }
            Magic::Text => {
                let head = &b[..b.len().min(8192)];
                !head.contains(&0) && !looks_executable(head)
            }
        }
    }
}

/// Programs and scripts, whatever their name says.
fn looks_executable(b: &[u8]) -> bool {
    b.starts_with(b"MZ") || b.starts_with(b"\x7fELF") || b.starts_with(b"#!")
}

/// An attachment that passed the checks, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAttachment {
    /// The file's name, without any folder, control characters or overlong tail.
    pub file_name: String,
    /// The type decided from the extension and checked against the contents.
    pub content_type: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// An attachment's description (its bytes are fetched apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketAttachment {
    /// Id.
    pub id: i64,
    /// The ticket.
    pub ticket_id: i64,
    /// The message it came with.
    pub message_id: Option<i64>,
    /// File name.
    pub file_name: String,
    /// Media type.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// When it was added.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Who added it.
    pub created_by: Option<i64>,
}

impl TicketAttachment {
    /// Whether a browser may show it in the page (pictures) rather than download it.
    pub fn inline(&self) -> bool {
        inline_type(&self.content_type)
    }
}

/// Whether a stored media type is one shown in the page.
pub fn inline_type(content_type: &str) -> bool {
    FORMATS
        .iter()
        .any(|f| f.inline && f.content_type == content_type)
}

/// The name a file is kept under: the last path segment, control characters and the
/// characters Windows refuses removed, cut to [`MAX_FILE_NAME`] characters keeping the
/// extension.
pub fn clean_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.chars().count() <= MAX_FILE_NAME {
        return cleaned;
    }
    let ext = extension(&cleaned)
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    let keep = MAX_FILE_NAME.saturating_sub(ext.chars().count());
    let stem: String = cleaned.chars().take(keep).collect();
    format!("{stem}{ext}")
}

fn extension(name: &str) -> Option<String> {
    let (_, ext) = name.rsplit_once('.')?;
    (!ext.is_empty() && ext.len() <= 8).then(|| ext.to_ascii_lowercase())
}

/// Checks one file against the allow-list and the size limit (`max_kb` per file). Problems
/// are named by `field`: `required` (no name), `empty_file`, `file_too_large`,
/// `refused_type` (not on the list), `type_mismatch` (the contents are not what the name says).
pub fn check_attachment(
    field: &str,
    file_name: &str,
    bytes: Vec<u8>,
    max_kb: i64,
) -> Result<ValidAttachment, ValidationErrors> {
    let name = clean_file_name(file_name);
    if name.is_empty() {
        return Err(ValidationErrors::single(field, "required"));
    }
    if bytes.is_empty() {
        return Err(ValidationErrors::single(field, "empty_file"));
    }
    let limit = usize::try_from(max_kb.clamp(1, CEILING_KB) * 1024).unwrap_or(usize::MAX);
    if bytes.len() > limit {
        return Err(ValidationErrors::single(field, "file_too_large"));
    }
    let Some(format) = extension(&name).and_then(|ext| {
        FORMATS
            .iter()
            .find(|f| f.extensions.contains(&ext.as_str()))
    }) else {
        return Err(ValidationErrors::single(field, "refused_type"));
    };
    if !format.magic.iter().any(|m| m.matches(&bytes)) {
        return Err(ValidationErrors::single(field, "type_mismatch"));
    }
    Ok(ValidAttachment {
        file_name: name,
        content_type: format.content_type,
        bytes,
    })
}

/// Checks the files of one message: at most [`MAX_FILES`], each as [`check_attachment`];
/// problems are named `files[i]`.
pub fn check_attachments(
    files: Vec<(String, Vec<u8>)>,
    max_kb: i64,
) -> Result<Vec<ValidAttachment>, ValidationErrors> {
    let mut e = ValidationErrors::new();
    if files.len() > MAX_FILES {
        e.push("files", "too_many_files");
        return Err(e);
    }
    let mut out = Vec::with_capacity(files.len());
    for (i, (name, bytes)) in files.into_iter().enumerate() {
        match check_attachment(&format!("files[{i}]"), &name, bytes, max_kb) {
            Ok(a) => out.push(a),
            Err(problems) => e.0.extend(problems.0),
        }
    }
    e.finish(|| out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png() -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.extend_from_slice(&[0; 32]);
        b
    }

    fn code(r: Result<ValidAttachment, ValidationErrors>) -> String {
        r.err().map(|e| e.0[0].code.clone()).unwrap_or_default()
    }

    #[test]
    fn a_picture_is_taken_with_its_type_decided_from_the_name_and_checked_by_the_contents() {
        let a = check_attachment("file", "C:\\Users\\王\\破损.PNG", png(), 10).expect("ok");
        assert_eq!(a.file_name, "破损.PNG");
        assert_eq!(a.content_type, "image/png");
        assert!(inline_type(a.content_type));
    }

    #[test]
    fn an_executable_is_refused_whatever_it_is_called() {
        let exe = b"MZ\x90\x00\x03".to_vec();
        assert_eq!(
            code(check_attachment("file", "setup.exe", exe.clone(), 10)),
            "refused_type"
        );
        assert_eq!(
            code(check_attachment("file", "photo.png", exe.clone(), 10)),
            "type_mismatch"
        );
        assert_eq!(
            code(check_attachment("file", "notes.txt", exe, 10)),
            "type_mismatch"
        );
        let script = b"#!/bin/sh\nrm -rf /".to_vec();
        assert_eq!(
            code(check_attachment("file", "run.txt", script, 10)),
            "type_mismatch"
        );
        assert_eq!(
            code(check_attachment(
                "file",
                "x.svg",
                b"<svg onload=alert(1)>".to_vec(),
                10
            )),
            "refused_type"
        );
        assert_eq!(
            code(check_attachment(
                "file",
                "page.html",
                b"<html>".to_vec(),
                10
            )),
            "refused_type"
        );
        assert_eq!(
            code(check_attachment("file", "noext", png(), 10)),
            "refused_type"
        );
    }

    #[test]
    fn size_is_limited_per_file_and_empty_files_are_refused() {
        let mut big = png();
        big.resize(2 * 1024 + 1, 0);
        assert_eq!(
            code(check_attachment("file", "a.png", big.clone(), 2)),
            "file_too_large"
        );
        big.truncate(2 * 1024);
        assert!(check_attachment("file", "a.png", big, 2).is_ok());
        assert_eq!(
            code(check_attachment("file", "a.png", Vec::new(), 2)),
            "empty_file"
        );
    }

    #[test]
    fn office_files_invoices_and_voice_notes_are_recognised() {
        let zip = b"PK\x03\x04rest".to_vec();
        assert!(check_attachment("f", "发票.ofd", zip.clone(), 10).is_ok());
        assert!(check_attachment("f", "清单.xlsx", zip, 10).is_ok());
        assert!(check_attachment("f", "a.pdf", b"%PDF-1.7\n".to_vec(), 10).is_ok());
        assert!(check_attachment("f", "v.amr", b"#!AMR\n\x00".to_vec(), 10).is_ok());
        assert!(check_attachment("f", "v.m4a", b"\x00\x00\x00\x20ftypM4A ".to_vec(), 10).is_ok());
        assert!(check_attachment("f", "说明.txt", "屏幕碎了".as_bytes().to_vec(), 10).is_ok());
        assert_eq!(
            code(check_attachment("f", "a.pdf", b"PK\x03\x04".to_vec(), 10)),
            "type_mismatch"
        );
    }

    #[test]
    fn names_lose_folders_and_control_characters_and_keep_their_extension_when_cut() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("a\u{0}b\r\n.png"), "ab.png");
        let long = format!("{}.pdf", "很".repeat(300));
        let cut = clean_file_name(&long);
        assert_eq!(cut.chars().count(), MAX_FILE_NAME);
        assert!(cut.ends_with(".pdf"));
    }

    #[test]
    fn a_message_carries_at_most_three_files_and_each_problem_is_named_by_position() {
        let files = vec![
            ("a.png".to_string(), png()),
            ("b.exe".to_string(), b"MZ".to_vec()),
        ];
        let e = check_attachments(files, 10).expect_err("refused");
        assert_eq!(e.0[0].field, "files[1]");
        let four = (0..4).map(|i| (format!("{i}.png"), png())).collect();
        assert_eq!(
            check_attachments(four, 10).expect_err("many").0[0].code,
            "too_many_files"
        );
    }
}
