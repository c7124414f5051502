//! Port descriptions: name, direction, width, and how Verilator stores the
//! value (which decides how a value is written into the model).

/// Direction of a top-level port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortDir {
    Input,
    Output,
    InOut,
}

impl PortDir {
    /// True for ports the harness may drive (inputs and inouts).
    pub fn is_input(self) -> bool {
        !matches!(self, PortDir::Output)
    }
}

/// The C type Verilator uses for a port (CData/SData/IData/QData/VlWide).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Storage {
    U8,
    U16,
    U32,
    U64,
    /// `VlWide<N>`: N little-endian u32 words.
    Wide(u32),
}

/// One top-level port of a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortInfo {
    /// Verilog port name.
    pub name: &'static str,
    pub dir: PortDir,
    /// Width in bits (`msb - lsb + 1`); values are always relative to bit 0.
    pub width: u32,
    pub(crate) storage: Storage,
}

impl PortInfo {
    #[doc(hidden)]
    pub const fn new(name: &'static str, dir: PortDir, width: u32, storage: Storage) -> Self {
        Self { name, dir, width, storage }
    }

    /// Number of u32 words a value of this port takes (`ceil(width / 32)`):
    /// the slice length [`crate::Model::set`] and [`crate::Model::get`] expect.
    pub fn words(&self) -> usize {
        self.width.div_ceil(32) as usize
    }

    /// Mask of the valid bits of word `i` of a value of this port.
    #[inline]
    pub(crate) fn word_mask(&self, i: usize) -> u32 {
        let bits = self.width as usize - 32 * i;
        if bits >= 32 {
            u32::MAX
        } else {
            (1u32 << bits) - 1
        }
    }

    /// Mask of the valid bits in the low 64 bits.
    #[inline]
    pub(crate) fn mask64(&self) -> u64 {
        if self.width >= 64 {
            u64::MAX
        } else {
            (1u64 << self.width) - 1
        }
    }
}

/// Index of a port in a model's port list. Resolve it once by name with
/// [`crate::Model::port`]; per-cycle accesses by id are a table lookup.
/// An id is only meaningful for models with the same port list (e.g. every
/// `ws_top_*` model shares one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortId(u16);

impl PortId {
    #[doc(hidden)]
    pub const fn new(index: u16) -> Self {
        Self(index)
    }

    /// Position in [`crate::Model::ports`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
