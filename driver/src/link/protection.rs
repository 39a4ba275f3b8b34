//! W^X at link time: no image leaves the driver with a segment that is both writable
//! and executable, or from an object that asks for an executable stack.
//!
//! - **Executable stack.** An object asks for one with a `.note.GNU-stack` section
//!   that has SHF_EXECINSTR (gcc emits it for nested-function trampolines; assemblers
//!   with `--execstack`). Such an object is refused, naming it, unless the link line
//!   says `-z execstack` (the last of `-z execstack` / `-z noexecstack` wins, as in
//!   LLD). The override only lets the link go on: unik stacks are never executable,
//!   so code that really runs on its stack still faults. An object *without* the note
//!   asks for nothing: LLD's rule (GNU ld's older "a missing note means an executable
//!   stack" is deprecated since binutils 2.39), and every compiler emits the note.
//! - **RWX segments and sections.** After the link, every PT_LOAD of the image is
//!   checked; one with both PF_W and PF_X (a linker script merging code and data) is
//!   refused, naming the segment and its sections, and no image is written. So is an
//!   allocated section with both SHF_WRITE and SHF_EXECINSTR (an `"awx"` section):
//!   unik's linker script would put it in the read-write, no-execute segment, so the
//!   code in it could never run. There is no override: the runtime maps no page writable and executable
//!   (its page tables follow the linker script's sections, and a boot-time check
//!   refuses any W+X page), so such headers would only misdescribe the image.

use std::ffi::OsString;
use std::fmt::Write as _;

use object::elf::{FileHeader64, PF_W, PF_X, PT_LOAD, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE};
use object::read::elf::{FileHeader, ProgramHeader, SectionHeader};
use object::{Endianness, Object, ObjectSection, SectionFlags};

use super::inputs::ObjectInput;

/// Whether `-z execstack` is in force on this link line (items as the linker gets
/// them: `-z execstack`, `-zexecstack`; the last setting wins).
pub fn executable_stack_allowed(items: &[OsString]) -> bool {
    let mut allowed = false;
    let mut previous_was_z = false;
    for item in items {
        let text = item.to_string_lossy();
        let keyword = if previous_was_z {
            Some(text.as_ref())
        } else {
            text.strip_prefix("-z")
        };
        previous_was_z = text == "-z";
        match keyword {
            Some("execstack") => allowed = true,
            Some("noexecstack") => allowed = false,
            _ => {}
        }
    }
    allowed
}

/// Whether the object's `.note.GNU-stack` asks for an executable stack.
pub fn asks_for_executable_stack(object: &ObjectInput) -> bool {
    let Ok(file) = object::File::parse(&*object.bytes) else {
        return false;
    };
    file.section_by_name(".note.GNU-stack")
        .is_some_and(|section| match section.flags() {
            SectionFlags::Elf { sh_flags, .. } => sh_flags.contains(SHF_EXECINSTR),
            _ => false,
        })
}

/// The error for the loaded objects that ask for an executable stack, if any and not
/// allowed.
pub fn check_executable_stack(
    loaded: &[&ObjectInput],
    allowed: bool,
    program: &str,
) -> Result<(), String> {
    if allowed {
        return Ok(());
    }
    let asking: Vec<&str> = loaded
        .iter()
        .filter(|object| asks_for_executable_stack(object))
        .map(|object| object.display_name.as_str())
        .collect();
    if asking.is_empty() {
        return Ok(());
    }
    let mut text = String::new();
    for name in &asking {
        let _ = writeln!(
            text,
            "{program}: error: {name} asks for an executable stack (its .note.GNU-stack section has the SHF_EXECINSTR flag)"
        );
    }
    let _ = writeln!(
        text,
        "{program}: note: unik maps no stack executable (W^X); rebuild the object without it (`-Wa,--noexecstack`, or `.section .note.GNU-stack,\"\",@progbits` in assembly), or link with `-z execstack` to accept it (the stacks stay non-executable)"
    );
    Err(text)
}

/// One writable and executable segment of an image.
#[derive(Debug, PartialEq, Eq)]
pub struct WritableExecutableSegment {
    pub index: usize,
    pub address: u64,
    pub size: u64,
    /// The allocated sections inside it.
    pub sections: Vec<String>,
}

/// The image's PT_LOAD segments that are writable and executable; an error text when
/// the bytes are no 64-bit ELF.
pub fn writable_executable_segments(
    bytes: &[u8],
) -> Result<Vec<WritableExecutableSegment>, String> {
    let header = FileHeader64::<Endianness>::parse(bytes).map_err(|error| error.to_string())?;
    let endian = header.endian().map_err(|error| error.to_string())?;
    let segments = header
        .program_headers(endian, bytes)
        .map_err(|error| error.to_string())?;
    let sections = header
        .sections(endian, bytes)
        .map_err(|error| error.to_string())?;
    let mut found = Vec::new();
    for (index, segment) in segments.iter().enumerate() {
        let flags = segment.p_flags(endian);
        if segment.p_type(endian) != PT_LOAD || !flags.contains(PF_W) || !flags.contains(PF_X) {
            continue;
        }
        let start = segment.p_vaddr(endian);
        let end = start.saturating_add(segment.p_memsz(endian));
        let names = sections
            .iter()
            .filter(|section| {
                let address = section.sh_addr(endian);
                section.sh_flags(endian).contains(SHF_ALLOC)
                    && section.sh_size(endian) > 0
                    && start <= address
                    && address < end
            })
            .filter_map(|section| sections.section_name(endian, section).ok())
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect();
        found.push(WritableExecutableSegment {
            index,
            address: start,
            size: end - start,
            sections: names,
        });
    }
    Ok(found)
}

/// The names of the image's allocated sections that are writable and executable.
pub fn writable_executable_sections(bytes: &[u8]) -> Result<Vec<String>, String> {
    let header = FileHeader64::<Endianness>::parse(bytes).map_err(|error| error.to_string())?;
    let endian = header.endian().map_err(|error| error.to_string())?;
    let sections = header
        .sections(endian, bytes)
        .map_err(|error| error.to_string())?;
    Ok(sections
        .iter()
        .filter(|section| {
            section
                .sh_flags(endian)
                .contains(SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR)
        })
        .filter_map(|section| sections.section_name(endian, section).ok())
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .collect())
}

/// The error for an image with writable and executable segments or sections
/// (`image_name` is how the user names the output).
pub fn check_segments(bytes: &[u8], image_name: &str, program: &str) -> Result<(), String> {
    let unreadable = |error: String| {
        format!("{program}: error: {image_name}: cannot read the linked image: {error}\n")
    };
    let segments = writable_executable_segments(bytes).map_err(unreadable)?;
    let sections = writable_executable_sections(bytes).map_err(unreadable)?;
    if segments.is_empty() && sections.is_empty() {
        return Ok(());
    }
    let mut text = String::new();
    for section in &sections {
        let _ = writeln!(
            text,
            "{program}: error: {image_name}: section {section} is writable and executable (flags \"awx\")"
        );
    }
    for segment in &segments {
        let _ = writeln!(
            text,
            "{program}: error: {image_name}: segment {} (LOAD at {:#x}, {} bytes; sections {}) is writable and executable",
            segment.index,
            segment.address,
            segment.size,
            if segment.sections.is_empty() {
                "none".to_string()
            } else {
                segment.sections.join(", ")
            }
        );
    }
    let _ = writeln!(
        text,
        "{program}: note: unik maps no page both writable and executable (W^X): keep code and data in separate sections (a section flagged \"awx\", or a linker script putting them in one segment, does this); no image was written"
    );
    Err(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(items: &[&str]) -> Vec<OsString> {
        items.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_last_z_stack_option_wins() {
        assert!(!executable_stack_allowed(&os(&["main.o"])));
        assert!(executable_stack_allowed(&os(&["-z", "execstack"])));
        assert!(executable_stack_allowed(&os(&["-zexecstack"])));
        assert!(!executable_stack_allowed(&os(&[
            "-z",
            "execstack",
            "-z",
            "noexecstack"
        ])));
        assert!(executable_stack_allowed(&os(&[
            "-znoexecstack",
            "-z",
            "execstack"
        ])));
        // "execstack" as a file name is not the option.
        assert!(!executable_stack_allowed(&os(&["execstack"])));
    }

    /// A relocatable x86_64 object with a `.note.GNU-stack` section of `flags`, or
    /// none.
    fn object_with_note(flags: Option<u64>) -> ObjectInput {
        use object::write;
        let mut file = write::Object::new(
            object::BinaryFormat::Elf,
            object::Architecture::X86_64,
            object::Endianness::Little,
        );
        file.add_section(Vec::new(), b".text".to_vec(), object::SectionKind::Text);
        if let Some(flags) = flags {
            let note = file.add_section(
                Vec::new(),
                b".note.GNU-stack".to_vec(),
                object::SectionKind::Other,
            );
            file.section_mut(note).flags = SectionFlags::Elf {
                sh_type: object::elf::SHT_PROGBITS,
                sh_flags: object::elf::SectionFlags(flags),
            };
        }
        ObjectInput {
            display_name: "stack.o".to_string(),
            bytes: file.write().unwrap(),
            defined: Vec::new(),
            undefined: Vec::new(),
        }
    }

    #[test]
    fn executable_stack_notes() {
        let executable = object_with_note(Some(SHF_EXECINSTR.0));
        let plain = object_with_note(Some(0));
        let without = object_with_note(None);
        assert!(asks_for_executable_stack(&executable));
        assert!(!asks_for_executable_stack(&plain));
        assert!(!asks_for_executable_stack(&without));
        let error = check_executable_stack(&[&plain, &executable], false, "unikcc").unwrap_err();
        assert!(
            error.starts_with(
                "unikcc: error: stack.o asks for an executable stack (its .note.GNU-stack section has the SHF_EXECINSTR flag)\n"
            ),
            "{error}"
        );
        assert!(error.contains("`-z execstack`"), "{error}");
        assert_eq!(
            check_executable_stack(&[&executable], true, "unikcc"),
            Ok(())
        );
        assert_eq!(
            check_executable_stack(&[&plain, &without], false, "unikcc"),
            Ok(())
        );
    }

    /// An ELF64 executable with one PT_LOAD of `flags` covering one section `.mixed`
    /// with `section_flags`.
    fn image(flags: u32, section_flags: u64) -> Vec<u8> {
        fn put(bytes: &mut [u8], offset: usize, value: &[u8]) {
            bytes[offset..offset + value.len()].copy_from_slice(value)
        }
        let mut bytes = vec![0u8; 64];
        bytes[..4].copy_from_slice(b"\x7fELF");
        bytes[4] = 2;
        bytes[5] = 1;
        bytes[6] = 1;
        bytes[16] = 2; // ET_EXEC
        bytes[18] = 62; // EM_X86_64
        bytes[20] = 1;
        put(&mut bytes, 32, &64u64.to_le_bytes()); // e_phoff
        put(&mut bytes, 52, &64u16.to_le_bytes()); // e_ehsize
        put(&mut bytes, 54, &56u16.to_le_bytes()); // e_phentsize
        put(&mut bytes, 56, &1u16.to_le_bytes()); // e_phnum
        put(&mut bytes, 58, &64u16.to_le_bytes()); // e_shentsize
        // Program header: PT_LOAD at 0x100000, 0x1000 bytes.
        let mut segment = vec![0u8; 56];
        put(&mut segment, 0, &1u32.to_le_bytes());
        put(&mut segment, 4, &flags.to_le_bytes());
        put(&mut segment, 16, &0x10_0000u64.to_le_bytes());
        put(&mut segment, 24, &0x10_0000u64.to_le_bytes());
        put(&mut segment, 40, &0x1000u64.to_le_bytes());
        bytes.extend(segment);
        let strings = b"\0.mixed\0.shstrtab\0";
        let strings_offset = bytes.len() as u64;
        bytes.extend_from_slice(strings);
        while !bytes.len().is_multiple_of(8) {
            bytes.push(0);
        }
        let section_headers = bytes.len() as u64;
        put(&mut bytes, 40, &section_headers.to_le_bytes()); // e_shoff
        put(&mut bytes, 60, &3u16.to_le_bytes()); // e_shnum
        put(&mut bytes, 62, &2u16.to_le_bytes()); // e_shstrndx
        bytes.extend([0u8; 64]); // the null section
        let mut mixed = [0u8; 64];
        put(&mut mixed, 0, &1u32.to_le_bytes()); // name: ".mixed"
        put(&mut mixed, 4, &1u32.to_le_bytes()); // SHT_PROGBITS
        put(&mut mixed, 8, &section_flags.to_le_bytes());
        put(&mut mixed, 16, &0x10_0000u64.to_le_bytes());
        put(&mut mixed, 32, &0x10u64.to_le_bytes());
        bytes.extend(mixed);
        let mut table = [0u8; 64];
        put(&mut table, 0, &8u32.to_le_bytes()); // name: ".shstrtab"
        put(&mut table, 4, &3u32.to_le_bytes()); // SHT_STRTAB
        put(&mut table, 24, &strings_offset.to_le_bytes());
        put(&mut table, 32, &(strings.len() as u64).to_le_bytes());
        bytes.extend(table);
        bytes
    }

    #[test]
    fn writable_executable_segments_and_sections_are_refused() {
        let read_execute = (PF_X | object::elf::PF_R).0;
        let all = (PF_X | PF_W | object::elf::PF_R).0;
        let code = (SHF_ALLOC | SHF_EXECINSTR).0;
        let mixed = (SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR).0;
        assert_eq!(
            check_segments(&image(read_execute, code), "app.img", "unikcc"),
            Ok(())
        );
        let segments = writable_executable_segments(&image(all, code)).unwrap();
        assert_eq!(
            segments,
            [WritableExecutableSegment {
                index: 0,
                address: 0x10_0000,
                size: 0x1000,
                sections: vec![".mixed".to_string()],
            }]
        );
        let error = check_segments(&image(all, code), "app.img", "unikcc").unwrap_err();
        assert!(
            error.starts_with(
                "unikcc: error: app.img: segment 0 (LOAD at 0x100000, 4096 bytes; sections .mixed) is writable and executable\n"
            ),
            "{error}"
        );
        let error = check_segments(&image(read_execute, mixed), "app.img", "unikcc").unwrap_err();
        assert!(
            error.starts_with(
                "unikcc: error: app.img: section .mixed is writable and executable (flags \"awx\")\n"
            ),
            "{error}"
        );
        assert!(error.contains("no image was written"), "{error}");
    }

    #[test]
    fn segments_of_garbage_are_an_error_not_a_panic() {
        assert!(writable_executable_segments(b"not an elf").is_err());
        assert!(writable_executable_segments(&[]).is_err());
        let error = check_segments(b"\x7fELF", "app.img", "unikcc").unwrap_err();
        assert!(error.starts_with("unikcc: error: app.img: cannot read the linked image"));
    }
}
