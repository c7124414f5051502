//! A small, strict pickle virtual machine: the opcodes of protocols 2–5 that `torch.save` emits, and
//! nothing that executes code. Objects live in an arena and refer to each other by index, so memo
//! references share (and see later mutations of) one object, as in Python, without reference
//! counting. Calls are never evaluated except `collections.OrderedDict()`; every other `REDUCE` or
//! `NEWOBJ` stays an opaque [`Object::Call`] for the caller to interpret or ignore.

use super::error::LoadErrorKind;
use std::collections::HashMap;

/// Index of an object in [`Pickle::objects`].
pub(super) type ObjId = usize;

/// One value built by the pickle program.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Object {
    None,
    Bool(bool),
    Int(i64),
    /// An integer too wide for i64, as minimal little-endian two's-complement bytes
    /// (torch's legacy magic number is one).
    BigInt(Vec<u8>),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<ObjId>),
    /// Lists, sets and frozensets alike: order is all a checkpoint reader needs.
    List(Vec<ObjId>),
    /// Insertion-ordered, like Python dicts; keys are kept as written.
    Dict(Vec<(ObjId, ObjId)>),
    /// A reference to `module.name` (a class or function), never resolved.
    Global {
        module: String,
        name: String,
    },
    /// `callable(*args)` from REDUCE, or `callable.__new__(callable, *args)` from NEWOBJ, left
    /// unevaluated; `state` is what a later BUILD supplied.
    Call {
        callable: ObjId,
        args: ObjId,
        state: Option<ObjId>,
    },
    /// An object the pickle names by persistent id (torch storages); holds the id object.
    Persistent(ObjId),
}

/// The result of running one pickle program.
#[derive(Debug)]
pub(super) struct Pickle {
    objects: Vec<Object>,
    /// The object STOP returned.
    pub root: ObjId,
    /// Offset just past the STOP opcode in the buffer the pickle was read from.
    pub end: usize,
}

static NONE: Object = Object::None;

impl Pickle {
    /// The object with this id (ids handed out by this pickle are always valid; others read as None).
    pub fn get(&self, id: ObjId) -> &Object {
        self.objects.get(id).unwrap_or(&NONE)
    }

    /// All objects, in creation order.
    pub fn objects(&self) -> &[Object] {
        &self.objects
    }

    pub fn as_int(&self, id: ObjId) -> Option<i64> {
        match self.get(id) {
            Object::Int(v) => Some(*v),
            Object::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    pub fn as_str(&self, id: ObjId) -> Option<&str> {
        match self.get(id) {
            Object::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Items of a tuple or list.
    pub fn items(&self, id: ObjId) -> Option<&[ObjId]> {
        match self.get(id) {
            Object::Tuple(items) | Object::List(items) => Some(items),
            _ => None,
        }
    }

    /// `(module, name)` of a global.
    pub fn as_global(&self, id: ObjId) -> Option<(&str, &str)> {
        match self.get(id) {
            Object::Global { module, name } => Some((module, name)),
            _ => None,
        }
    }

    /// Value of the first entry of a dict whose key is the string `key`.
    pub fn dict_get(&self, id: ObjId, key: &str) -> Option<ObjId> {
        match self.get(id) {
            Object::Dict(entries) => entries.iter().find(|(k, _)| self.as_str(*k) == Some(key)).map(|(_, v)| *v),
            _ => None,
        }
    }
}

/// Runs the pickle that starts at `data[start]` up to its STOP opcode.
/// Error positions are offsets in `data`.
pub(super) fn unpickle(data: &[u8], start: usize) -> Result<Pickle, LoadErrorKind> {
    Machine { data, pos: start, objects: Vec::new(), stack: Vec::new(), marks: Vec::new(), memo: HashMap::new() }.run()
}

struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    objects: Vec<Object>,
    stack: Vec<ObjId>,
    /// Stack heights at each open MARK.
    marks: Vec<usize>,
    /// Keyed by a map, not a vector, so a hostile memo index cannot force a huge allocation.
    memo: HashMap<u64, ObjId>,
}

fn malformed(msg: String) -> LoadErrorKind {
    LoadErrorKind::Malformed(msg)
}

impl<'a> Machine<'a> {
    fn run(mut self) -> Result<Pickle, LoadErrorKind> {
        loop {
            let op_pos = self.pos;
            let op = self.take(1, op_pos)?.first().copied().unwrap_or(0);
            match op {
                b'.' => {
                    let root = self.pop(op_pos)?;
                    return Ok(Pickle { objects: self.objects, root, end: self.pos });
                }
                0x80 => {
                    let version = self.read_u8(op_pos)?;
                    if !(2..=5).contains(&version) {
                        return Err(malformed(format!("unsupported pickle protocol {version} at byte {op_pos}")));
                    }
                }
                // FRAME: protocol 4 framing is only a read-ahead hint.
                0x95 => {
                    self.take(8, op_pos)?;
                }
                b'(' => self.marks.push(self.stack.len()),
                b'0' => {
                    if self.marks.last() == Some(&self.stack.len()) {
                        self.marks.pop();
                    } else {
                        self.pop(op_pos)?;
                    }
                }
                b'1' => {
                    self.pop_mark(op_pos)?;
                }
                b'2' => {
                    let top = self.top(op_pos)?;
                    self.stack.push(top);
                }
                b'N' => self.push(Object::None),
                0x88 => self.push(Object::Bool(true)),
                0x89 => self.push(Object::Bool(false)),
                b'I' => {
                    let line = self.read_line(op_pos)?;
                    let obj = match line {
                        b"01" => Object::Bool(true),
                        b"00" => Object::Bool(false),
                        _ => Object::Int(
                            parse_decimal(line)
                                .ok_or_else(|| malformed(format!("bad INT literal at byte {op_pos}")))?,
                        ),
                    };
                    self.push(obj);
                }
                b'J' => {
                    let b = self.take_array::<4>(op_pos)?;
                    self.push(Object::Int(i64::from(i32::from_le_bytes(b))));
                }
                b'K' => {
                    let v = self.read_u8(op_pos)?;
                    self.push(Object::Int(i64::from(v)));
                }
                b'M' => {
                    let b = self.take_array::<2>(op_pos)?;
                    self.push(Object::Int(i64::from(u16::from_le_bytes(b))));
                }
                0x8a => {
                    let n = usize::from(self.read_u8(op_pos)?);
                    let bytes = self.take(n, op_pos)?;
                    self.push(long_from_le(bytes));
                }
                0x8b => {
                    let n = self.read_len_i32(op_pos)?;
                    let bytes = self.take(n, op_pos)?;
                    self.push(long_from_le(bytes));
                }
                b'G' => {
                    let b = self.take_array::<8>(op_pos)?;
                    self.push(Object::Float(f64::from_be_bytes(b)));
                }
                b'X' => {
                    let n = self.read_len_u32(op_pos)?;
                    self.push_unicode(n, op_pos)?;
                }
                0x8c => {
                    let n = usize::from(self.read_u8(op_pos)?);
                    self.push_unicode(n, op_pos)?;
                }
                0x8d => {
                    let n = self.read_len_u64(op_pos)?;
                    self.push_unicode(n, op_pos)?;
                }
                // BINSTRING / SHORT_BINSTRING: Python 2 `str`, decoded as UTF-8 like torch.load does.
                b'T' => {
                    let n = self.read_len_i32(op_pos)?;
                    self.push_py2_string(n, op_pos)?;
                }
                b'U' => {
                    let n = usize::from(self.read_u8(op_pos)?);
                    self.push_py2_string(n, op_pos)?;
                }
                b'B' => {
                    let n = self.read_len_u32(op_pos)?;
                    let bytes = self.take(n, op_pos)?.to_vec();
                    self.push(Object::Bytes(bytes));
                }
                b'C' => {
                    let n = usize::from(self.read_u8(op_pos)?);
                    let bytes = self.take(n, op_pos)?.to_vec();
                    self.push(Object::Bytes(bytes));
                }
                0x8e | 0x96 => {
                    let n = self.read_len_u64(op_pos)?;
                    let bytes = self.take(n, op_pos)?.to_vec();
                    self.push(Object::Bytes(bytes));
                }
                b')' => self.push(Object::Tuple(Vec::new())),
                b't' => {
                    let items = self.pop_mark(op_pos)?;
                    self.push(Object::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let items = self.pop_n(n, op_pos)?;
                    self.push(Object::Tuple(items));
                }
                b']' | 0x8f => self.push(Object::List(Vec::new())),
                b'l' | 0x91 => {
                    let items = self.pop_mark(op_pos)?;
                    self.push(Object::List(items));
                }
                b'a' => {
                    let item = self.pop(op_pos)?;
                    self.extend_list(vec![item], op_pos)?;
                }
                b'e' | 0x90 => {
                    let items = self.pop_mark(op_pos)?;
                    self.extend_list(items, op_pos)?;
                }
                b'}' => self.push(Object::Dict(Vec::new())),
                b'd' => {
                    let items = self.pop_mark(op_pos)?;
                    let pairs = pairs_of(items, op_pos)?;
                    self.push(Object::Dict(pairs));
                }
                b's' => {
                    let value = self.pop(op_pos)?;
                    let key = self.pop(op_pos)?;
                    self.extend_dict(vec![(key, value)], op_pos)?;
                }
                b'u' => {
                    let items = self.pop_mark(op_pos)?;
                    let pairs = pairs_of(items, op_pos)?;
                    self.extend_dict(pairs, op_pos)?;
                }
                b'c' => {
                    let module = self.read_text_line(op_pos)?;
                    let name = self.read_text_line(op_pos)?;
                    self.push(Object::Global { module, name });
                }
                0x93 => {
                    let name = self.pop(op_pos)?;
                    let module = self.pop(op_pos)?;
                    let (Object::Str(module), Object::Str(name)) = (self.get(module).clone(), self.get(name).clone())
                    else {
                        return Err(malformed(format!("STACK_GLOBAL at byte {op_pos} needs two strings")));
                    };
                    self.push(Object::Global { module, name });
                }
                b'R' | 0x81 => {
                    let args = self.pop(op_pos)?;
                    let callable = self.pop(op_pos)?;
                    self.push_call(callable, args, op_pos)?;
                }
                // NEWOBJ_EX: keyword arguments never matter for what torch writes.
                0x92 => {
                    let _kwargs = self.pop(op_pos)?;
                    let args = self.pop(op_pos)?;
                    let callable = self.pop(op_pos)?;
                    self.push_call(callable, args, op_pos)?;
                }
                b'b' => {
                    let state = self.pop(op_pos)?;
                    let target = self.top(op_pos)?;
                    // Dicts and lists ignore BUILD state (torch sets `_metadata` on state dicts).
                    if let Some(Object::Call { state: slot, .. }) = self.objects.get_mut(target) {
                        *slot = Some(state);
                    }
                }
                b'Q' => {
                    let pid = self.pop(op_pos)?;
                    self.push(Object::Persistent(pid));
                }
                b'P' => {
                    let pid = self.read_text_line(op_pos)?;
                    let pid = self.alloc(Object::Str(pid));
                    self.push(Object::Persistent(pid));
                }
                b'q' => {
                    let index = self.read_u8(op_pos)?;
                    self.memo_put(u64::from(index), op_pos)?;
                }
                b'r' => {
                    let index = u32::from_le_bytes(self.take_array::<4>(op_pos)?);
                    self.memo_put(u64::from(index), op_pos)?;
                }
                b'p' => {
                    let line = self.read_line(op_pos)?;
                    let index = parse_memo_index(line, op_pos)?;
                    self.memo_put(index, op_pos)?;
                }
                0x94 => {
                    let index = self.memo.len() as u64;
                    self.memo_put(index, op_pos)?;
                }
                b'h' => {
                    let index = self.read_u8(op_pos)?;
                    self.memo_get(u64::from(index), op_pos)?;
                }
                b'j' => {
                    let index = u32::from_le_bytes(self.take_array::<4>(op_pos)?);
                    self.memo_get(u64::from(index), op_pos)?;
                }
                b'g' => {
                    let line = self.read_line(op_pos)?;
                    let index = parse_memo_index(line, op_pos)?;
                    self.memo_get(index, op_pos)?;
                }
                _ => return Err(malformed(format!("unsupported pickle opcode 0x{op:02x} at byte {op_pos}"))),
            }
        }
    }

    fn get(&self, id: ObjId) -> &Object {
        self.objects.get(id).unwrap_or(&NONE)
    }

    fn alloc(&mut self, obj: Object) -> ObjId {
        self.objects.push(obj);
        self.objects.len() - 1
    }

    fn push(&mut self, obj: Object) {
        let id = self.alloc(obj);
        self.stack.push(id);
    }

    fn pop(&mut self, op_pos: usize) -> Result<ObjId, LoadErrorKind> {
        // Items below the innermost MARK belong to an enclosing construct.
        if self.marks.last() == Some(&self.stack.len()) {
            return Err(underflow(op_pos));
        }
        self.stack.pop().ok_or_else(|| underflow(op_pos))
    }

    fn pop_n(&mut self, n: usize, op_pos: usize) -> Result<Vec<ObjId>, LoadErrorKind> {
        let floor = self.marks.last().copied().unwrap_or(0);
        let split = self.stack.len().checked_sub(n).filter(|&at| at >= floor).ok_or_else(|| underflow(op_pos))?;
        Ok(self.stack.split_off(split))
    }

    fn top(&self, op_pos: usize) -> Result<ObjId, LoadErrorKind> {
        if self.marks.last() == Some(&self.stack.len()) {
            return Err(underflow(op_pos));
        }
        self.stack.last().copied().ok_or_else(|| underflow(op_pos))
    }

    fn pop_mark(&mut self, op_pos: usize) -> Result<Vec<ObjId>, LoadErrorKind> {
        let mark =
            self.marks.pop().ok_or_else(|| malformed(format!("no MARK open for the opcode at byte {op_pos}")))?;
        if mark > self.stack.len() {
            return Err(underflow(op_pos));
        }
        Ok(self.stack.split_off(mark))
    }

    fn push_call(&mut self, callable: ObjId, args: ObjId, op_pos: usize) -> Result<(), LoadErrorKind> {
        let Object::Tuple(arg_items) = self.get(args) else {
            return Err(malformed(format!("call arguments at byte {op_pos} are not a tuple")));
        };
        // OrderedDict is the one call evaluated: state dicts are filled in place by SETITEMS.
        let is_ordered_dict = matches!(
            self.get(callable),
            Object::Global { module, name } if module == "collections" && name == "OrderedDict"
        );
        if is_ordered_dict && arg_items.is_empty() {
            self.push(Object::Dict(Vec::new()));
        } else {
            self.push(Object::Call { callable, args, state: None });
        }
        Ok(())
    }

    fn extend_list(&mut self, items: Vec<ObjId>, op_pos: usize) -> Result<(), LoadErrorKind> {
        let target = self.top(op_pos)?;
        match self.objects.get_mut(target) {
            Some(Object::List(list)) => {
                list.extend(items);
                Ok(())
            }
            _ => Err(malformed(format!("append at byte {op_pos} to something that is not a list"))),
        }
    }

    fn extend_dict(&mut self, pairs: Vec<(ObjId, ObjId)>, op_pos: usize) -> Result<(), LoadErrorKind> {
        let target = self.top(op_pos)?;
        match self.objects.get_mut(target) {
            Some(Object::Dict(entries)) => {
                entries.extend(pairs);
                Ok(())
            }
            _ => Err(malformed(format!("setitem at byte {op_pos} on something that is not a dict"))),
        }
    }

    fn memo_put(&mut self, index: u64, op_pos: usize) -> Result<(), LoadErrorKind> {
        let top = self.top(op_pos)?;
        self.memo.insert(index, top);
        Ok(())
    }

    fn memo_get(&mut self, index: u64, op_pos: usize) -> Result<(), LoadErrorKind> {
        let id = self
            .memo
            .get(&index)
            .copied()
            .ok_or_else(|| malformed(format!("memo entry {index} read at byte {op_pos} was never stored")))?;
        self.stack.push(id);
        Ok(())
    }

    fn take(&mut self, n: usize, op_pos: usize) -> Result<&'a [u8], LoadErrorKind> {
        let data: &'a [u8] = self.data;
        let bytes = self
            .pos
            .checked_add(n)
            .and_then(|end| data.get(self.pos..end))
            .ok_or_else(|| LoadErrorKind::Truncated(format!("pickle ends inside the opcode at byte {op_pos}")))?;
        self.pos += n;
        Ok(bytes)
    }

    fn take_array<const N: usize>(&mut self, op_pos: usize) -> Result<[u8; N], LoadErrorKind> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, op_pos)?);
        Ok(out)
    }

    fn read_u8(&mut self, op_pos: usize) -> Result<u8, LoadErrorKind> {
        Ok(self.take_array::<1>(op_pos)?[0])
    }

    fn read_len_u32(&mut self, op_pos: usize) -> Result<usize, LoadErrorKind> {
        let n = u32::from_le_bytes(self.take_array::<4>(op_pos)?);
        usize::try_from(n).map_err(|_| malformed(format!("length too large at byte {op_pos}")))
    }

    fn read_len_i32(&mut self, op_pos: usize) -> Result<usize, LoadErrorKind> {
        let n = i32::from_le_bytes(self.take_array::<4>(op_pos)?);
        usize::try_from(n).map_err(|_| malformed(format!("negative length at byte {op_pos}")))
    }

    fn read_len_u64(&mut self, op_pos: usize) -> Result<usize, LoadErrorKind> {
        let n = u64::from_le_bytes(self.take_array::<8>(op_pos)?);
        usize::try_from(n).map_err(|_| malformed(format!("length too large at byte {op_pos}")))
    }

    /// A newline-terminated argument of the text opcodes, without the newline.
    fn read_line(&mut self, op_pos: usize) -> Result<&'a [u8], LoadErrorKind> {
        let rest = self.data.get(self.pos..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| LoadErrorKind::Truncated(format!("pickle ends inside the opcode at byte {op_pos}")))?;
        let line = self.take(len + 1, op_pos)?;
        Ok(line.get(..len).unwrap_or_default())
    }

    fn read_text_line(&mut self, op_pos: usize) -> Result<String, LoadErrorKind> {
        let line = self.read_line(op_pos)?;
        String::from_utf8(line.to_vec()).map_err(|_| malformed(format!("non-UTF-8 name at byte {op_pos}")))
    }

    fn push_unicode(&mut self, n: usize, op_pos: usize) -> Result<(), LoadErrorKind> {
        let bytes = self.take(n, op_pos)?;
        let text =
            std::str::from_utf8(bytes).map_err(|_| malformed(format!("invalid UTF-8 string at byte {op_pos}")))?;
        self.push(Object::Str(text.to_owned()));
        Ok(())
    }

    fn push_py2_string(&mut self, n: usize, op_pos: usize) -> Result<(), LoadErrorKind> {
        let bytes = self.take(n, op_pos)?;
        let obj = match std::str::from_utf8(bytes) {
            Ok(text) => Object::Str(text.to_owned()),
            Err(_) => Object::Bytes(bytes.to_vec()),
        };
        self.push(obj);
        Ok(())
    }
}

fn underflow(op_pos: usize) -> LoadErrorKind {
    malformed(format!("pickle stack underflow at byte {op_pos}"))
}

fn pairs_of(items: Vec<ObjId>, op_pos: usize) -> Result<Vec<(ObjId, ObjId)>, LoadErrorKind> {
    if items.len() % 2 != 0 {
        return Err(malformed(format!("odd number of items for a dict at byte {op_pos}")));
    }
    Ok(items
        .chunks_exact(2)
        .filter_map(|kv| match kv {
            [key, value] => Some((*key, *value)),
            _ => None,
        })
        .collect())
}

fn parse_decimal(text: &[u8]) -> Option<i64> {
    std::str::from_utf8(text).ok()?.trim().parse().ok()
}

fn parse_memo_index(line: &[u8], op_pos: usize) -> Result<u64, LoadErrorKind> {
    parse_decimal(line)
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| malformed(format!("bad memo index at byte {op_pos}")))
}

/// LONG1/LONG4 payload: little-endian two's complement of any width.
fn long_from_le(bytes: &[u8]) -> Object {
    let negative = bytes.last().is_some_and(|&b| b & 0x80 != 0);
    let sign_byte = if negative { 0xff } else { 0x00 };
    // Drop redundant sign-extension bytes: a top byte equal to the sign byte whose neighbour
    // already carries the same sign bit.
    let mut minimal = bytes;
    while let [rest @ .., prev, last] = minimal {
        if *last != sign_byte || (prev & 0x80 != 0) != negative {
            break;
        }
        minimal = minimal.get(..rest.len() + 1).unwrap_or_default();
    }
    if minimal.len() <= 8 {
        let mut buf = [sign_byte; 8];
        for (slot, &byte) in buf.iter_mut().zip(minimal) {
            *slot = byte;
        }
        Object::Int(i64::from_le_bytes(buf))
    } else {
        Object::BigInt(minimal.to_vec())
    }
}

/// Builds pickle programs opcode by opcode, for tests here and in `pth`.
#[cfg(test)]
pub(super) mod writer {
    /// A protocol-2 pickle under construction.
    pub struct PickleWriter {
        pub bytes: Vec<u8>,
        next_memo: u8,
    }

    impl PickleWriter {
        pub fn new() -> Self {
            PickleWriter { bytes: vec![0x80, 2], next_memo: 0 }
        }

        pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
            self.bytes.extend_from_slice(bytes);
            self
        }

        pub fn mark(&mut self) -> &mut Self {
            self.raw(b"(")
        }

        pub fn tuple(&mut self) -> &mut Self {
            self.raw(b"t")
        }

        pub fn empty_tuple(&mut self) -> &mut Self {
            self.raw(b")")
        }

        pub fn reduce(&mut self) -> &mut Self {
            self.raw(b"R")
        }

        pub fn none(&mut self) -> &mut Self {
            self.raw(b"N")
        }

        pub fn int(&mut self, v: i64) -> &mut Self {
            if let Ok(small) = u8::try_from(v) {
                self.raw(&[b'K', small])
            } else if let Ok(medium) = u16::try_from(v) {
                self.raw(b"M").raw(&medium.to_le_bytes())
            } else if let Ok(word) = i32::try_from(v) {
                self.raw(b"J").raw(&word.to_le_bytes())
            } else {
                self.raw(&[0x8a, 8]).raw(&v.to_le_bytes())
            }
        }

        pub fn str(&mut self, s: &str) -> &mut Self {
            self.raw(b"X").raw(&(s.len() as u32).to_le_bytes()).raw(s.as_bytes())
        }

        pub fn global(&mut self, module: &str, name: &str) -> &mut Self {
            self.raw(format!("c{module}\n{name}\n").as_bytes())
        }

        /// `collections.OrderedDict()`.
        pub fn ordered_dict(&mut self) -> &mut Self {
            self.global("collections", "OrderedDict").empty_tuple().reduce()
        }

        /// Memoizes the top of the stack, returning its memo index.
        pub fn put(&mut self) -> u8 {
            let index = self.next_memo;
            self.next_memo += 1;
            self.raw(&[b'q', index]);
            index
        }

        pub fn get(&mut self, index: u8) -> &mut Self {
            self.raw(&[b'h', index])
        }

        pub fn finish(&mut self) -> Vec<u8> {
            self.raw(b".");
            std::mem::take(&mut self.bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::writer::PickleWriter;
    use super::*;

    fn run(bytes: &[u8]) -> Result<(Pickle, Object), LoadErrorKind> {
        let p = unpickle(bytes, 0)?;
        let root = p.get(p.root).clone();
        Ok((p, root))
    }

    #[test]
    fn integers_of_every_width() {
        let mut w = PickleWriter::new();
        w.mark()
            .int(7)
            .int(1001)
            .int(-5)
            .int(1 << 40)
            .raw(&[0x8a, 0]) // LONG1 of zero bytes is 0
            .raw(&[0x8a, 2, 0xff, 0x00]) // 255, needs the zero sign byte
            .raw(&[0x8a, 1, 0xff]) // -1
            .raw(&[0x8b, 3, 0, 0, 0, 0, 0, 1]) // LONG4 65536
            .raw(b"I42\n")
            .raw(b"I01\n")
            .tuple();
        let (p, root) = run(&w.finish()).unwrap();
        let Object::Tuple(items) = root else { panic!("not a tuple") };
        let values: Vec<_> = items.iter().map(|&i| p.get(i).clone()).collect();
        assert_eq!(
            values,
            vec![
                Object::Int(7),
                Object::Int(1001),
                Object::Int(-5),
                Object::Int(1 << 40),
                Object::Int(0),
                Object::Int(255),
                Object::Int(-1),
                Object::Int(65536),
                Object::Int(42),
                Object::Bool(true),
            ]
        );
    }

    #[test]
    fn torch_magic_number_is_a_big_int() {
        let mut bytes = vec![0x80, 2, 0x8a, 10];
        bytes.extend_from_slice(&0x1950a86a20f9469cfc6c_u128.to_le_bytes()[..10]);
        bytes.push(b'.');
        let (_, root) = run(&bytes).unwrap();
        assert_eq!(root, Object::BigInt(vec![0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]));
    }

    #[test]
    fn strings_floats_and_containers() {
        let mut w = PickleWriter::new();
        w.mark()
            .str("héllo")
            .raw(&[0x8c, 2])
            .raw(b"hi")
            .raw(&[b'U', 3])
            .raw(b"py2")
            .raw(&[b'C', 2, 0xde, 0xad])
            .raw(b"G")
            .raw(&1.5f64.to_be_bytes())
            .raw(&[0x88, 0x89])
            .none()
            .int(1)
            .raw(&[0x85]) // TUPLE1
            .int(1)
            .int(2)
            .raw(&[0x86]) // TUPLE2
            .raw(b"]")
            .mark()
            .int(3)
            .int(4)
            .raw(b"e")
            .int(5)
            .raw(b"a")
            .tuple();
        let (p, root) = run(&w.finish()).unwrap();
        let Object::Tuple(items) = root else { panic!("not a tuple") };
        let get = |i: usize| p.get(items[i]).clone();
        assert_eq!(get(0), Object::Str("héllo".into()));
        assert_eq!(get(1), Object::Str("hi".into()));
        assert_eq!(get(2), Object::Str("py2".into()));
        assert_eq!(get(3), Object::Bytes(vec![0xde, 0xad]));
        assert_eq!(get(4), Object::Float(1.5));
        assert_eq!(get(5), Object::Bool(true));
        assert_eq!(get(6), Object::Bool(false));
        assert_eq!(get(7), Object::None);
        assert_eq!(p.items(items[8]).map(<[_]>::len), Some(1));
        assert_eq!(p.items(items[9]).map(<[_]>::len), Some(2));
        let list: Vec<_> = p.items(items[10]).unwrap().iter().map(|&i| p.as_int(i)).collect();
        assert_eq!(list, vec![Some(3), Some(4), Some(5)]);
    }

    #[test]
    fn memo_shares_objects_filled_after_memoization() {
        // As pickle writes it: the dict is memoized while still empty, then filled.
        let mut w = PickleWriter::new();
        w.mark().raw(b"}");
        let dict = w.put();
        w.mark().str("a").int(1).raw(b"u");
        w.get(dict);
        // LONG_BINPUT / LONG_BINGET and MEMOIZE on the same object.
        w.raw(&[b'r', 0, 1, 0, 0]).raw(&[0x94]).raw(b"2").raw(b"0");
        w.raw(&[b'j', 0, 1, 0, 0]).tuple();
        let (p, root) = run(&w.finish()).unwrap();
        let Object::Tuple(items) = root else { panic!("not a tuple") };
        assert_eq!(items.len(), 3);
        assert!(items.iter().all(|&i| i == items[0]));
        assert_eq!(p.dict_get(items[0], "a").and_then(|v| p.as_int(v)), Some(1));
    }

    #[test]
    fn reduce_build_persid_and_globals() {
        let mut w = PickleWriter::new();
        w.mark()
            .ordered_dict()
            .global("torch._utils", "_rebuild_tensor_v2")
            .mark()
            .int(1)
            .tuple()
            .reduce()
            .raw(b"}")
            .raw(b"b") // BUILD stores the state on the opaque call
            .mark()
            .str("storage")
            .tuple()
            .raw(b"Q")
            // protocol 4 style: SHORT_BINUNICODE twice, then STACK_GLOBAL
            .raw(&[0x8c, 5])
            .raw(b"torch")
            .raw(&[0x8c, 12])
            .raw(b"FloatStorage")
            .raw(&[0x93])
            .tuple();
        let (p, root) = run(&w.finish()).unwrap();
        let Object::Tuple(items) = root else { panic!("not a tuple") };
        assert_eq!(p.get(items[0]), &Object::Dict(Vec::new()));
        let Object::Call { callable, state, .. } = p.get(items[1]) else { panic!("not a call") };
        assert_eq!(p.as_global(*callable), Some(("torch._utils", "_rebuild_tensor_v2")));
        assert!(state.is_some());
        assert!(matches!(p.get(items[2]), Object::Persistent(_)));
        assert_eq!(p.as_global(items[3]), Some(("torch", "FloatStorage")));
    }

    #[test]
    fn protocol_4_frames_are_skipped() {
        let mut bytes = vec![0x80, 4, 0x95];
        bytes.extend_from_slice(&3u64.to_le_bytes());
        bytes.extend_from_slice(&[b'K', 9, b'.']);
        let (_, root) = run(&bytes).unwrap();
        assert_eq!(root, Object::Int(9));
    }

    #[test]
    fn unknown_opcode_is_reported_with_its_position() {
        let err = unpickle(&[0x80, 2, b'K', 1, 0xff, b'.'], 0).unwrap_err();
        let LoadErrorKind::Malformed(msg) = err else { panic!("wrong kind: {err:?}") };
        assert_eq!(msg, "unsupported pickle opcode 0xff at byte 4");
        // Offsets count from the start of the buffer, not of the pickle.
        let err = unpickle(&[0, 0, 0x80, 2, b'i', b'.'], 2).unwrap_err();
        assert!(err.to_string().contains("0x69 at byte 4"), "{err}");
    }

    #[test]
    fn code_execution_opcodes_are_refused() {
        for op in [b'i', b'o', 0x82] {
            let err = unpickle(&[0x80, 2, b'(', op, b'.'], 0).unwrap_err();
            assert!(matches!(err, LoadErrorKind::Malformed(_)), "{err:?}");
        }
    }

    #[test]
    fn truncation_and_underflow_are_errors() {
        let err = unpickle(&[0x80, 2, b'X', 10, 0, 0, 0, b'a'], 0).unwrap_err();
        assert!(matches!(err, LoadErrorKind::Truncated(_)), "{err:?}");
        let err = unpickle(&[0x80, 2, b'K', 1], 0).unwrap_err();
        assert!(matches!(err, LoadErrorKind::Truncated(_)), "{err:?}");
        let err = unpickle(&[0x80, 2, b'R', b'.'], 0).unwrap_err();
        assert!(err.to_string().contains("underflow"), "{err}");
        // Items below an open MARK cannot be popped.
        let err = unpickle(&[0x80, 2, b'K', 1, b'(', b's', b'.'], 0).unwrap_err();
        assert!(err.to_string().contains("underflow"), "{err}");
        let err = unpickle(&[0x80, 2, b'h', 3, b'.'], 0).unwrap_err();
        assert!(err.to_string().contains("memo entry 3"), "{err}");
        let err = unpickle(&[0x80, 9, b'N', b'.'], 0).unwrap_err();
        assert!(err.to_string().contains("protocol 9"), "{err}");
        let err = unpickle(&[0x80, 2, b'K', 1, b'K', 2, b'a', b'.'], 0).unwrap_err();
        assert!(err.to_string().contains("not a list"), "{err}");
    }

    #[test]
    fn hostile_lengths_do_not_allocate() {
        // BINUNICODE8 / BINBYTES8 claiming exabytes, LONG_BINPUT at a huge index.
        let mut bytes = vec![0x80, 4, 0x8d];
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(unpickle(&bytes, 0).is_err());
        let mut bytes = vec![0x80, 4, 0x8e];
        bytes.extend_from_slice(&(1u64 << 62).to_le_bytes());
        assert!(unpickle(&bytes, 0).is_err());
        let (_, root) = run(&[0x80, 2, b'N', b'r', 0xff, 0xff, 0xff, 0xff, b'.']).unwrap();
        assert_eq!(root, Object::None);
    }

    #[test]
    fn no_input_makes_it_panic() {
        // Every prefix of a realistic pickle, and pseudo-random mutations of it.
        let mut w = PickleWriter::new();
        w.ordered_dict();
        w.put();
        w.mark()
            .str("w")
            .global("torch._utils", "_rebuild_tensor_v2")
            .mark()
            .mark()
            .str("storage")
            .global("torch", "FloatStorage")
            .str("0")
            .str("cpu")
            .int(4)
            .tuple()
            .raw(b"Q")
            .int(0)
            .mark()
            .int(2)
            .int(2)
            .tuple()
            .mark()
            .int(2)
            .int(1)
            .tuple()
            .raw(&[0x89])
            .get(0)
            .tuple()
            .reduce()
            .raw(b"u");
        let good = w.finish();
        assert!(unpickle(&good, 0).is_ok());
        for len in 0..good.len() {
            let _ = unpickle(&good[..len], 0);
        }
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut mutated = good.clone();
            let at = (seed as usize) % mutated.len();
            mutated[at] = (seed >> 32) as u8;
            let _ = unpickle(&mutated, (seed >> 48) as usize % 4);
        }
    }
}
