#include "plot.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "font5x7.h"

namespace diffvi::repro {

namespace {

constexpr Color kBlack{0, 0, 0};
constexpr Color kGrid{225, 225, 225};

std::string tick_label(double v, bool log_axis) {
  char buf[32];
  const double e = std::log10(v);
  if (log_axis && (std::abs(e - std::round(e)) > 1e-9 || std::abs(e) < 4)) {
    std::snprintf(buf, sizeof buf, "%g", v);  // 2×/5× ticks and small decades as plain numbers
  } else if (log_axis) {
    std::snprintf(buf, sizeof buf, "1e%d", static_cast<int>(std::lround(e)));
  } else {
    std::snprintf(buf, sizeof buf, "%g", v);
  }
  return buf;
}

// Tick positions: decades on a log axis, 1/2/5 multiples on a linear one.
std::vector<double> ticks(double lo, double hi, bool log_axis) {
  std::vector<double> out;
  if (log_axis) {
    // Decades; with fewer than three decades in view, also 2× and 5× (NFE axes).
    const bool dense = std::log10(hi / lo) < 3;
    for (int e = static_cast<int>(std::floor(std::log10(lo))); e <= std::ceil(std::log10(hi));
         ++e) {
      for (double m : {1.0, 2.0, 5.0}) {
        const double v = m * std::pow(10.0, e);
        if ((m == 1.0 || dense) && v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push_back(v);
      }
    }
    return out;
  }
  const double raw = (hi - lo) / 5, mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : 5 * mag;
  for (double v = std::ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) {
    out.push_back(std::abs(v) < 1e-12 * step ? 0.0 : v);
  }
  return out;
}

}  // namespace

Color palette(int i) {
  static const Color kColors[] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                  {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                  {188, 189, 34},  {23, 190, 207}};
  return kColors[((i % 10) + 10) % 10];
}

Canvas::Canvas(int width, int height, Color bg) : w_(width), h_(height), rgb_(3L * width * height) {
  for (size_t i = 0; i < rgb_.size(); i += 3) {
    rgb_[i] = bg.r;
    rgb_[i + 1] = bg.g;
    rgb_[i + 2] = bg.b;
  }
}

void Canvas::set_pixel(int x, int y, Color c) { blend_pixel(x, y, c, 1.0); }

void Canvas::blend_pixel(int x, int y, Color c, double a) {
  if (x < 0 || y < 0 || x >= w_ || y >= h_ || a <= 0) return;
  a = std::min(a, 1.0);
  uint8_t* p = &rgb_[3 * (static_cast<size_t>(y) * w_ + x)];
  p[0] = static_cast<uint8_t>(std::lround(p[0] * (1 - a) + c.r * a));
  p[1] = static_cast<uint8_t>(std::lround(p[1] * (1 - a) + c.g * a));
  p[2] = static_cast<uint8_t>(std::lround(p[2] * (1 - a) + c.b * a));
}

void Canvas::fill_rect(const Rect& r, Color c) {
  for (int y = r.y; y < r.y + r.h; ++y)
    for (int x = r.x; x < r.x + r.w; ++x) set_pixel(x, y, c);
}

void Canvas::draw_rect(const Rect& r, Color c) {
  for (int x = r.x; x < r.x + r.w; ++x) {
    set_pixel(x, r.y, c);
    set_pixel(x, r.y + r.h - 1, c);
  }
  for (int y = r.y; y < r.y + r.h; ++y) {
    set_pixel(r.x, y, c);
    set_pixel(r.x + r.w - 1, y, c);
  }
}

void Canvas::draw_line(double x0, double y0, double x1, double y1, Color c, double thickness) {
  // Coverage from the distance of each pixel centre to the segment: cheap anti-aliasing.
  const double half = thickness / 2, pad = half + 1;
  const int xa = static_cast<int>(std::floor(std::min(x0, x1) - pad));
  const int xb = static_cast<int>(std::ceil(std::max(x0, x1) + pad));
  const int ya = static_cast<int>(std::floor(std::min(y0, y1) - pad));
  const int yb = static_cast<int>(std::ceil(std::max(y0, y1) + pad));
  const double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
  for (int y = std::max(ya, 0); y <= std::min(yb, h_ - 1); ++y) {
    for (int x = std::max(xa, 0); x <= std::min(xb, w_ - 1); ++x) {
      const double px = x + 0.5, py = y + 0.5;
      double u = len2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0;
      u = std::clamp(u, 0.0, 1.0);
      const double d = std::hypot(px - (x0 + u * dx), py - (y0 + u * dy));
      blend_pixel(x, y, c, std::clamp(half + 0.5 - d, 0.0, 1.0));
    }
  }
}

void Canvas::draw_disc(double cx, double cy, double radius, Color c, double alpha) {
  for (int y = static_cast<int>(cy - radius - 1); y <= static_cast<int>(cy + radius + 1); ++y) {
    for (int x = static_cast<int>(cx - radius - 1); x <= static_cast<int>(cx + radius + 1); ++x) {
      const double d = std::hypot(x + 0.5 - cx, y + 0.5 - cy);
      blend_pixel(x, y, c, alpha * std::clamp(radius + 0.5 - d, 0.0, 1.0));
    }
  }
}

int Canvas::draw_text(int x, int y, const std::string& text, Color c, int scale, bool vertical) {
  int pos = 0;
  for (char ch : text) {
    const int code = static_cast<unsigned char>(ch);
    const uint8_t* glyph = kFont5x7[(code >= 32 && code < 127) ? code - 32 : '?' - 32];
    for (int col = 0; col < 5; ++col) {
      for (int row = 0; row < 8; ++row) {
        if (!(glyph[col] >> row & 1)) continue;
        for (int sy = 0; sy < scale; ++sy) {
          for (int sx = 0; sx < scale; ++sx) {
            const int gx = pos + col * scale + sx, gy = row * scale + sy;
            if (vertical) {
              set_pixel(x + gy, y - gx, c);
            } else {
              set_pixel(x + gx, y + gy, c);
            }
          }
        }
      }
    }
    pos += 6 * scale;
  }
  return pos;
}

void Canvas::save_png(const std::string& path) const {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("save_png: cannot open " + path);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    throw std::runtime_error("save_png: libpng failed writing " + path);
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, w_, h_, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < h_; ++y) {
    png_write_row(png, const_cast<png_bytep>(&rgb_[3 * static_cast<size_t>(y) * w_]));
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  if (std::fclose(f) != 0) throw std::runtime_error("save_png: cannot close " + path);
}

void draw_line_plot(Canvas& cv, const Rect& area, const LinePlot& plot) {
  // Data range over all finite (and, on log axes, positive) points.
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  for (const Series& s : plot.series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      if ((plot.log_x && s.x[i] <= 0) || (plot.log_y && s.y[i] <= 0)) continue;
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
    }
  }
  if (x0 > x1) x0 = 1, x1 = 10, y0 = 1, y1 = 10;
  auto tf_x = [&](double v) { return plot.log_x ? std::log10(v) : v; };
  auto tf_y = [&](double v) { return plot.log_y ? std::log10(v) : v; };
  double lx0 = tf_x(x0), lx1 = tf_x(x1), ly0 = tf_y(y0), ly1 = tf_y(y1);
  if (plot.log_y) ly0 = std::floor(ly0), ly1 = std::ceil(ly1);
  if (lx1 - lx0 < 1e-12) lx0 -= 0.5, lx1 += 0.5;
  if (ly1 - ly0 < 1e-12) ly0 -= 0.5, ly1 += 0.5;
  const double mx = 0.04 * (lx1 - lx0);
  lx0 -= mx, lx1 += mx;

  const Rect ax{area.x + 70, area.y + 30, area.w - 90, area.h - 75};
  auto px = [&](double v) { return ax.x + (tf_x(v) - lx0) / (lx1 - lx0) * (ax.w - 1); };
  auto py = [&](double v) { return ax.y + ax.h - 1 - (tf_y(v) - ly0) / (ly1 - ly0) * (ax.h - 1); };

  for (double t : ticks(plot.log_x ? std::pow(10, lx0) : lx0, plot.log_x ? std::pow(10, lx1) : lx1,
                        plot.log_x)) {
    const double x = px(t);
    cv.draw_line(x, ax.y, x, ax.y + ax.h - 1, kGrid);
    cv.draw_line(x, ax.y + ax.h, x, ax.y + ax.h + 4, kBlack);
    const std::string lab = tick_label(t, plot.log_x);
    cv.draw_text(static_cast<int>(x) - Canvas::text_width(lab) / 2, ax.y + ax.h + 8, lab, kBlack);
  }
  if (plot.log_x) {  // log axes with few decades: label the NFE-like values too
    for (const Series& s : plot.series) {
      for (double v : s.x) cv.draw_line(px(v), ax.y + ax.h, px(v), ax.y + ax.h + 2, kBlack);
    }
  }
  for (double t : ticks(plot.log_y ? std::pow(10, ly0) : ly0, plot.log_y ? std::pow(10, ly1) : ly1,
                        plot.log_y)) {
    const double y = py(t);
    cv.draw_line(ax.x, y, ax.x + ax.w - 1, y, kGrid);
    cv.draw_line(ax.x - 5, y, ax.x - 1, y, kBlack);
    const std::string lab = tick_label(t, plot.log_y);
    cv.draw_text(ax.x - 8 - Canvas::text_width(lab), static_cast<int>(y) - 4, lab, kBlack);
  }
  cv.draw_rect(ax, kBlack);
  cv.draw_text(area.x + area.w / 2 - Canvas::text_width(plot.title, 2) / 2, area.y + 6, plot.title,
               kBlack, 2);
  cv.draw_text(ax.x + ax.w / 2 - Canvas::text_width(plot.x_label) / 2, ax.y + ax.h + 24,
               plot.x_label, kBlack);
  cv.draw_text(area.x + 8, ax.y + ax.h / 2 + Canvas::text_width(plot.y_label) / 2, plot.y_label,
               kBlack, 1, true);

  for (const Series& s : plot.series) {
    bool have_prev = false;
    double qx = 0, qy = 0;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i]) || (plot.log_y && s.y[i] <= 0)) {
        have_prev = false;
        continue;
      }
      const double cx = px(s.x[i]), cy = py(s.y[i]);
      if (have_prev) cv.draw_line(qx, qy, cx, cy, s.color, 2.0);
      if (s.markers) cv.draw_disc(cx, cy, 3.0, s.color);
      qx = cx, qy = cy, have_prev = true;
    }
  }
  if (plot.legend && !plot.series.empty()) {
    int wmax = 0;
    for (const Series& s : plot.series) wmax = std::max(wmax, Canvas::text_width(s.label));
    const Rect box{ax.x + ax.w - wmax - 44, ax.y + 8, wmax + 36,
                   static_cast<int>(plot.series.size()) * 14 + 8};
    cv.fill_rect(box, {255, 255, 255});
    cv.draw_rect(box, {160, 160, 160});
    for (size_t i = 0; i < plot.series.size(); ++i) {
      const int y = box.y + 6 + static_cast<int>(i) * 14;
      cv.draw_line(box.x + 6, y + 4, box.x + 24, y + 4, plot.series[i].color, 2.0);
      cv.draw_text(box.x + 30, y, plot.series[i].label, kBlack);
    }
  }
}

void draw_density_scatter(Canvas& cv, const Rect& area, const DensityScatter& plot) {
  const Rect ax{area.x + 40, area.y + 30, area.w - 50, area.h - 60};
  double dmax = 0;
  for (double d : plot.density) dmax = std::max(dmax, d);
  for (int y = 0; y < ax.h; ++y) {
    for (int x = 0; x < ax.w; ++x) {
      if (plot.nx <= 0 || plot.ny <= 0 || dmax <= 0) break;
      const int i = std::min(plot.nx - 1, x * plot.nx / ax.w);
      const int j = std::min(plot.ny - 1, (ax.h - 1 - y) * plot.ny / ax.h);
      const double v = std::sqrt(plot.density[static_cast<size_t>(j) * plot.nx + i] / dmax);
      cv.set_pixel(
          ax.x + x, ax.y + y,
          {static_cast<uint8_t>(255 - v * (255 - 31)), static_cast<uint8_t>(255 - v * (255 - 119)),
           static_cast<uint8_t>(255 - v * (255 - 180))});
    }
  }
  for (size_t k = 0; k < plot.px.size() && k < plot.py.size(); ++k) {
    const double x = ax.x + (plot.px[k] - plot.x_min) / (plot.x_max - plot.x_min) * ax.w;
    const double y = ax.y + ax.h - (plot.py[k] - plot.y_min) / (plot.y_max - plot.y_min) * ax.h;
    if (x >= ax.x && x < ax.x + ax.w && y >= ax.y && y < ax.y + ax.h) {
      cv.draw_disc(x, y, 1.6, plot.point_color, 0.8);
    }
  }
  cv.draw_rect(ax, kBlack);
  for (double t : ticks(plot.x_min, plot.x_max, false)) {
    const double x = ax.x + (t - plot.x_min) / (plot.x_max - plot.x_min) * ax.w;
    cv.draw_line(x, ax.y + ax.h, x, ax.y + ax.h + 4, kBlack);
    const std::string lab = tick_label(t, false);
    cv.draw_text(static_cast<int>(x) - Canvas::text_width(lab) / 2, ax.y + ax.h + 8, lab, kBlack);
  }
  for (double t : ticks(plot.y_min, plot.y_max, false)) {
    const double y = ax.y + ax.h - (t - plot.y_min) / (plot.y_max - plot.y_min) * ax.h;
    cv.draw_line(ax.x - 5, y, ax.x - 1, y, kBlack);
    const std::string lab = tick_label(t, false);
    cv.draw_text(ax.x - 8 - Canvas::text_width(lab), static_cast<int>(y) - 4, lab, kBlack);
  }
  cv.draw_text(area.x + area.w / 2 - Canvas::text_width(plot.title, 2) / 2, area.y + 6, plot.title,
               kBlack, 2);
}

}  // namespace diffvi::repro
