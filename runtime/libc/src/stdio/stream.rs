//! A C `FILE` on one of the console descriptors: buffering, error and end-of-file
//! indicators, one byte of push-back (C11 7.21.3, 7.21.5.6).

use crate::global::Global;

/// Where a stream's bytes go and come from: the console on the target, a recorder in
/// the host tests.
pub trait Device {
    /// Writes all of `bytes` to descriptor `descriptor`; false on error.
    fn write(&mut self, descriptor: i32, bytes: &[u8]) -> bool;
    /// Reads at least one byte into `buffer` (blocking); 0 means end of file.
    fn read(&mut self, descriptor: i32, buffer: &mut [u8]) -> usize;
    /// lseek(2) on the descriptor; None when it cannot seek (the console: ESPIPE).
    fn seek(&mut self, _descriptor: i32, _offset: i64, _whence: i32) -> Option<i64> {
        None
    }
}

/// C's buffering modes, with glibc's `_IOFBF`/`_IOLBF`/`_IONBF` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Buffering {
    Full = 0,
    Line = 1,
    None = 2,
}

impl Buffering {
    pub fn from_c(mode: i32) -> Option<Buffering> {
        match mode {
            0 => Some(Buffering::Full),
            1 => Some(Buffering::Line),
            2 => Some(Buffering::None),
            _ => None,
        }
    }
}

/// glibc's `BUFSIZ`.
pub const BUFFER_SIZE: usize = 8192;
/// Bytes read from the console at a time (it delivers a line or less at once anyway).
pub const INPUT_SIZE: usize = 256;

/// A stream's buffers. They live in their own all-zero statics, apart from the
/// [`Stream`] (whose non-zero fields put it in `.data`), so that they take room in
/// `.bss` and not in the image file.
pub struct Buffers {
    pub output: Global<[u8; BUFFER_SIZE]>,
    pub input: Global<[u8; INPUT_SIZE]>,
}

impl Buffers {
    pub const fn new() -> Self {
        Buffers {
            output: Global::new([0; BUFFER_SIZE]),
            input: Global::new([0; INPUT_SIZE]),
        }
    }
}

impl Default for Buffers {
    fn default() -> Self {
        Self::new()
    }
}

pub struct Stream {
    descriptor: i32,
    buffering: Buffering,
    buffers: &'static Buffers,
    output_length: usize,
    input_start: usize,
    input_end: usize,
    pushed_back: Option<u8>,
    error: bool,
    end_of_file: bool,
}

impl Stream {
    pub const fn new(descriptor: i32, buffering: Buffering, buffers: &'static Buffers) -> Self {
        Stream {
            descriptor,
            buffering,
            buffers,
            output_length: 0,
            input_start: 0,
            input_end: 0,
            pushed_back: None,
            error: false,
            end_of_file: false,
        }
    }

    pub fn descriptor(&self) -> i32 {
        self.descriptor
    }

    /// Makes the stream a fresh one on `descriptor` (fopen, fdopen, freopen on a pooled
    /// stream).
    pub fn reset(&mut self, descriptor: i32, buffering: Buffering) {
        *self = Stream::new(descriptor, buffering, self.buffers);
    }

    /// Bytes read ahead from the device and not yet consumed (the push-back included).
    fn unread_count(&self) -> usize {
        self.input_end - self.input_start + usize::from(self.pushed_back.is_some())
    }

    /// Forgets read-ahead input, moving the device's offset back over it so that the
    /// next device operation happens where the program is (C11 7.21.5.3p7: a write
    /// after a read needs a positioning call; glibc makes it work anyway).
    fn drop_input(&mut self, device: &mut dyn Device) {
        let unread = self.unread_count();
        if unread > 0 {
            device.seek(self.descriptor, -(unread as i64), 1);
        }
        self.input_start = 0;
        self.input_end = 0;
        self.pushed_back = None;
    }

    /// C `ftell` (C11 7.21.9.4): the device offset, less input read ahead, plus output
    /// still buffered. None when the device cannot seek.
    pub fn position(&mut self, device: &mut dyn Device) -> Option<i64> {
        let offset = device.seek(self.descriptor, 0, 1)?;
        Some(offset - self.unread_count() as i64 + self.output_length as i64)
    }

    /// C `fseek` (C11 7.21.9.2): writes buffered output, drops read-ahead input and
    /// the push-back, clears end of file. False when the device cannot seek there.
    pub fn seek(&mut self, device: &mut dyn Device, offset: i64, whence: i32) -> bool {
        if !self.flush(device) {
            return false;
        }
        let offset = if whence == 1 {
            offset - self.unread_count() as i64
        } else {
            offset
        };
        self.input_start = 0;
        self.input_end = 0;
        self.pushed_back = None;
        if device.seek(self.descriptor, offset, whence).is_none() {
            return false;
        }
        self.end_of_file = false;
        true
    }

    /// Reads up to `out.len()` bytes: buffered input first, then large requests
    /// straight from the device (fread of a big block costs one device read, not one
    /// per 256 bytes). Stops early only at end of file.
    pub fn read_bytes(&mut self, device: &mut dyn Device, out: &mut [u8]) -> usize {
        let mut count = 0;
        if !out.is_empty()
            && let Some(byte) = self.pushed_back.take()
        {
            out[0] = byte;
            count = 1;
        }
        let buffered = (self.input_end - self.input_start).min(out.len() - count);
        let start = self.input_start;
        self.buffers.input.with(|input| {
            out[count..count + buffered].copy_from_slice(&input[start..start + buffered])
        });
        self.input_start += buffered;
        count += buffered;
        while out.len() - count >= INPUT_SIZE {
            if self.output_length > 0 {
                self.flush(device);
            }
            let read = device.read(self.descriptor, &mut out[count..]);
            if read == 0 {
                self.end_of_file = true;
                return count;
            }
            count += read;
        }
        while count < out.len() {
            match self.read_byte(device) {
                Some(byte) => {
                    out[count] = byte;
                    count += 1;
                }
                None => break,
            }
        }
        count
    }

    /// Writes out the buffered bytes; false (and the error indicator set) on failure.
    pub fn flush(&mut self, device: &mut dyn Device) -> bool {
        if self.output_length == 0 {
            return true;
        }
        let (descriptor, length) = (self.descriptor, self.output_length);
        let written = self
            .buffers
            .output
            .with(|output| device.write(descriptor, &output[..length]));
        self.output_length = 0;
        if !written {
            self.error = true;
        }
        written
    }

    /// Buffers or writes `bytes` per the stream's mode; false on a write error.
    pub fn write(&mut self, device: &mut dyn Device, bytes: &[u8]) -> bool {
        if self.unread_count() > 0 {
            self.drop_input(device);
        }
        if self.buffering == Buffering::None {
            // Unbuffered: straight through (anything left from a mode change first).
            let ok = self.flush(device) && device.write(self.descriptor, bytes);
            if !ok {
                self.error = true;
            }
            return ok;
        }
        // Line buffering (C11 7.21.3p3): everything through the last newline goes out
        // now, the rest stays buffered — glibc's behaviour.
        if self.buffering == Buffering::Line
            && let Some(last_newline) = bytes.iter().rposition(|&byte| byte == b'\n')
        {
            let (through_newline, rest) = bytes.split_at(last_newline + 1);
            let ok = self.append(device, through_newline) & self.flush(device);
            return ok & self.append(device, rest);
        }
        self.append(device, bytes)
    }

    /// Adds `bytes` to the buffer, flushing first when they do not fit; bytes that
    /// cannot fit at all are written directly.
    fn append(&mut self, device: &mut dyn Device, bytes: &[u8]) -> bool {
        let mut ok = true;
        if self.output_length + bytes.len() > BUFFER_SIZE {
            ok &= self.flush(device);
            if bytes.len() > BUFFER_SIZE {
                // Too big to buffer: write it directly.
                if !device.write(self.descriptor, bytes) {
                    self.error = true;
                    return false;
                }
                return ok;
            }
        }
        let start = self.output_length;
        self.buffers
            .output
            .with(|output| output[start..start + bytes.len()].copy_from_slice(bytes));
        self.output_length += bytes.len();
        ok
    }

    /// Changes the buffering mode (setvbuf); buffered bytes are written first.
    pub fn set_buffering(&mut self, device: &mut dyn Device, buffering: Buffering) {
        self.flush(device);
        self.buffering = buffering;
    }

    pub fn buffering(&self) -> Buffering {
        self.buffering
    }

    /// The next input byte; None at end of file (indicator set) or on error.
    pub fn read_byte(&mut self, device: &mut dyn Device) -> Option<u8> {
        if let Some(byte) = self.pushed_back.take() {
            return Some(byte);
        }
        if self.input_start == self.input_end {
            // Output buffered on the same stream goes first (a read after a write).
            if self.output_length > 0 {
                self.flush(device);
            }
            let descriptor = self.descriptor;
            let count = self
                .buffers
                .input
                .with(|input| device.read(descriptor, input));
            if count == 0 {
                self.end_of_file = true;
                return None;
            }
            self.input_start = 0;
            self.input_end = count.min(INPUT_SIZE);
        }
        let index = self.input_start;
        let byte = self.buffers.input.with(|input| input[index]);
        self.input_start += 1;
        Some(byte)
    }

    /// C `ungetc`: one byte of push-back is guaranteed (C11 7.21.7.10); clears EOF.
    pub fn unread_byte(&mut self, byte: u8) -> bool {
        if self.pushed_back.is_some() {
            return false;
        }
        self.pushed_back = Some(byte);
        self.end_of_file = false;
        true
    }

    /// C `fgets`: reads up to `buffer.len() - 1` bytes, through a newline; stores the NUL.
    /// Returns false when nothing was read (end of file or error, or no room).
    pub fn read_line(&mut self, device: &mut dyn Device, buffer: &mut [u8]) -> bool {
        if buffer.is_empty() {
            return false;
        }
        let mut length = 0;
        while length + 1 < buffer.len() {
            match self.read_byte(device) {
                Some(byte) => {
                    buffer[length] = byte;
                    length += 1;
                    if byte == b'\n' {
                        break;
                    }
                }
                None => break,
            }
        }
        buffer[length] = 0;
        length > 0 || buffer.len() == 1
    }

    pub fn error(&self) -> bool {
        self.error
    }

    pub fn end_of_file(&self) -> bool {
        self.end_of_file
    }

    pub fn clear_indicators(&mut self) {
        self.error = false;
        self.end_of_file = false;
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Fresh buffers for one test stream (leaked: a few KiB per test).
    fn buffers() -> &'static Buffers {
        Box::leak(Box::new(Buffers::new()))
    }

    /// Records every device write; serves queued input.
    #[derive(Default)]
    pub struct Recorder {
        pub writes: Vec<(i32, Vec<u8>)>,
        pub input: Vec<Vec<u8>>,
    }

    impl Device for Recorder {
        fn write(&mut self, descriptor: i32, bytes: &[u8]) -> bool {
            self.writes.push((descriptor, bytes.to_vec()));
            true
        }
        fn read(&mut self, _descriptor: i32, buffer: &mut [u8]) -> usize {
            if self.input.is_empty() {
                return 0;
            }
            let chunk = self.input.remove(0);
            buffer[..chunk.len()].copy_from_slice(&chunk);
            chunk.len()
        }
    }

    #[test]
    fn line_buffering_flushes_at_newlines() {
        let mut device = Recorder::default();
        let mut stream = Stream::new(1, Buffering::Line, buffers());
        stream.write(&mut device, b"hello ");
        assert!(device.writes.is_empty());
        stream.write(&mut device, b"world\nmore");
        assert_eq!(device.writes, [(1, b"hello world\n".to_vec())]);
        stream.flush(&mut device);
        assert_eq!(device.writes[1], (1, b"more".to_vec()));
    }

    #[test]
    fn unbuffered_and_full_buffering() {
        let mut device = Recorder::default();
        let mut stream = Stream::new(2, Buffering::None, buffers());
        stream.write(&mut device, b"a");
        assert_eq!(device.writes, [(2, b"a".to_vec())]);
        let mut full = Stream::new(1, Buffering::Full, buffers());
        full.write(&mut device, b"x\n");
        assert_eq!(device.writes.len(), 1);
        full.write(&mut device, &[b'y'; BUFFER_SIZE]);
        assert_eq!(device.writes.len(), 2);
        assert_eq!(device.writes[1].1, b"x\n");
        full.write(&mut device, &[b'z'; BUFFER_SIZE + 1]);
        assert_eq!(device.writes.len(), 4);
        assert_eq!(device.writes[3].1.len(), BUFFER_SIZE + 1);
    }

    #[test]
    fn reading_lines_pushback_and_end_of_file() {
        let mut device = Recorder {
            input: vec![b"ab\ncd".to_vec()],
            ..Default::default()
        };
        let mut stream = Stream::new(0, Buffering::Line, buffers());
        let mut line = [0u8; 16];
        assert!(stream.read_line(&mut device, &mut line));
        assert_eq!(&line[..4], b"ab\n\0");
        assert_eq!(stream.read_byte(&mut device), Some(b'c'));
        assert!(stream.unread_byte(b'C'));
        assert!(!stream.unread_byte(b'D'));
        let mut small = [0u8; 2];
        assert!(stream.read_line(&mut device, &mut small));
        assert_eq!(&small, b"C\0");
        assert!(stream.read_line(&mut device, &mut line));
        assert_eq!(&line[..2], b"d\0");
        assert!(!stream.read_line(&mut device, &mut line));
        assert!(stream.end_of_file());
        stream.clear_indicators();
        assert!(!stream.end_of_file());
    }
}
