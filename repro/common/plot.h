// A small PNG plotting helper for the repro binaries: an RGB canvas with lines, markers and a
// tiny built-in 5x7 bitmap font, plus two chart types drawn into a rectangle of the canvas —
// line plots (optionally log-log) with a legend, and scatter points over a density heat map.
// Written with libpng; no other dependencies.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace diffvi::repro {

struct Color {
  uint8_t r = 0, g = 0, b = 0;
};

// A qualitative palette (Tableau 10) for series i.
Color palette(int i);

struct Rect {
  int x = 0, y = 0, w = 0, h = 0;
};

class Canvas {
 public:
  Canvas(int width, int height, Color background = {255, 255, 255});
  int width() const { return w_; }
  int height() const { return h_; }

  void set_pixel(int x, int y, Color c);
  void blend_pixel(int x, int y, Color c, double alpha);  // alpha in [0, 1]
  void fill_rect(const Rect& r, Color c);
  void draw_rect(const Rect& r, Color c);
  // A line of the given thickness (pixels), anti-aliased by supersampled coverage.
  void draw_line(double x0, double y0, double x1, double y1, Color c, double thickness = 1.0);
  void draw_disc(double cx, double cy, double radius, Color c, double alpha = 1.0);
  // Text with the built-in font at integer `scale` (each glyph 6·scale wide, 8·scale tall);
  // returns the width drawn. `vertical` draws bottom-to-top (y labels).
  int draw_text(int x, int y, const std::string& text, Color c, int scale = 1,
                bool vertical = false);
  static int text_width(const std::string& text, int scale = 1) {
    return static_cast<int>(text.size()) * 6 * scale;
  }

  // Writes an 8-bit RGB PNG; throws std::runtime_error on failure.
  void save_png(const std::string& path) const;

 private:
  int w_, h_;
  std::vector<uint8_t> rgb_;
};

struct Series {
  std::string label;
  std::vector<double> x, y;
  Color color;
  bool markers = true;
};

struct LinePlot {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  std::vector<Series> series;
  bool legend = true;  // top-right inside the axes
};

// Draws axes, ticks (decades on log axes), grid, series and legend inside `area`.
void draw_line_plot(Canvas& canvas, const Rect& area, const LinePlot& plot);

struct DensityScatter {
  std::string title;
  double x_min = -1, x_max = 1, y_min = -1, y_max = 1;
  // density[j * nx + i] at cell (i, j), j = 0 the bottom row; shown as a white-to-blue map
  // scaled to its maximum.
  int nx = 0, ny = 0;
  std::vector<double> density;
  std::vector<double> px, py;  // scatter points
  Color point_color{214, 39, 40};
};

void draw_density_scatter(Canvas& canvas, const Rect& area, const DensityScatter& plot);

}  // namespace diffvi::repro
