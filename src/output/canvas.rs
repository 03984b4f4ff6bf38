//! The bitmap the charts are drawn on: plotters' `BitMapBackend` with its
//! text set glyph by glyph where each glyph's ink belongs.
//!
//! plotters (0.3.7) places the ink of each glyph at the pen position,
//! leaving out the glyph's left side bearing: a narrow glyph such as `1`
//! moves left and leaves a gap after it (`2016-07-26 1 6:00`). Here every
//! glyph is placed at the pen position plus its bearing, with the same
//! advances, kerning and layout box, so labels keep their place and size.

use ab_glyph::{Font, FontRef, ScaleFont};
use plotters::prelude::{BitMapBackend, DrawingBackend};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind};

/// The one font of the charts (see `charts::register_font`).
fn font() -> &'static FontRef<'static> {
    static FONT: std::sync::OnceLock<FontRef<'static>> = std::sync::OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(dejavu::sans::regular()).expect("the dejavu crate ships a valid font"))
}

/// Calls `pixel(x, y, coverage)` for the ink of `text` at `size` pixels,
/// from a pen at (0, 0) whose line is centred on y = size / 2, as plotters
/// lays text out.
pub fn glyph_pixels(text: &str, size: f32, mut pixel: impl FnMut(i32, i32, f32)) {
    let font = font().as_scaled(size);
    let mut pen = 0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            pen += font.kern(p, id);
        }
        prev = Some(id);
        if let Some(outline) = font.outline_glyph(font.scaled_glyph(c)) {
            let bounds = outline.px_bounds();
            let x0 = pen as i32 + bounds.min.x as i32;
            let y0 = (size / 2.0 + bounds.min.y).floor() as i32;
            outline.draw(|x, y, coverage| pixel(x0 + x as i32, y0 + y as i32, coverage));
        }
        pen += font.h_advance(id);
    }
}

/// A chart's bitmap: everything as `BitMapBackend` draws it, but text.
pub struct Canvas<'a>(pub BitMapBackend<'a>);

impl DrawingBackend for Canvas<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }

    /// Text at its anchor, turned as the style says, each glyph at its
    /// side bearing.
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let turn = style.transform();
        let (w, h) = self.get_size();
        let mut result = Ok(());
        glyph_pixels(text, style.size() as f32, |x, y, coverage| {
            let (x, y) = turn.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if result.is_ok() && x >= 0 && y >= 0 && x < w as i32 && y < h as i32 {
                let ink = BackendColor {
                    alpha: color.alpha * f64::from(coverage),
                    rgb: color.rgb,
                };
                result = self.draw_pixel((x, y), ink);
            }
        });
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The columns of ink of `text`, left to right.
    fn inked_columns(text: &str) -> Vec<i32> {
        let mut columns = std::collections::BTreeSet::new();
        glyph_pixels(text, 20.0, |x, _, coverage| {
            if coverage > 0.5 {
                columns.insert(x);
            }
        });
        columns.into_iter().collect()
    }

    /// The widest run of columns without ink inside `text`.
    fn widest_gap(text: &str) -> i32 {
        let columns = inked_columns(text);
        columns.windows(2).map(|w| w[1] - w[0] - 1).max().unwrap_or(0)
    }

    /// The first column with ink of `text` drawn on a chart's canvas at
    /// x = 10 with `size` pixels, as the charts draw a tick label.
    fn first_ink_drawn(text: &str, size: u32) -> i32 {
        use plotters::prelude::*;
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
        let (w, h) = (200u32, 40u32);
        let mut pixels = vec![255u8; (w * h * 3) as usize];
        {
            let area = Canvas(BitMapBackend::with_buffer(&mut pixels, (w, h))).into_drawing_area();
            let style = ("sans-serif", size).into_font().color(&BLACK);
            area.draw_text(text, &style, (10, 10)).unwrap();
            area.present().unwrap();
        }
        (0..w as i32)
            .find(|&x| (0..h as usize).any(|y| pixels[(y * w as usize + x as usize) * 3] < 128))
            .unwrap()
    }

    #[test]
    fn a_drawn_one_starts_at_its_side_bearing() {
        // plotters' own drawing puts the ink of `1` at the pen (column 10),
        // its bearing left out, which leaves the gap after it
        for size in [15, 20, 30] {
            let font = font().as_scaled(size as f32);
            let bearing = font.h_side_bearing(font.glyph_id('1'));
            assert!(bearing >= 1.0, "{size}: {bearing}");
            let first = first_ink_drawn("1", size);
            assert!(
                (first - 10 - bearing.floor() as i32).abs() <= 1 && first > 10,
                "{size}: ink from {first}, bearing {bearing}"
            );
        }
    }

    #[test]
    fn a_one_sits_between_its_neighbours_as_other_digits_do() {
        // a `1` placed without its side bearing leaves a gap of several
        // pixels after it; here the gaps around it are those of any digit
        let ones = widest_gap("16");
        let others = widest_gap("26");
        assert!(ones <= others + 1, "gap after 1: {ones} px, after 2: {others} px");
        assert!(widest_gap(" 16:00") <= widest_gap(" 26:00") + 1);
    }
}
