import Foundation

/// Self-contained SVG charts (no scripts, no external fonts) for reports.
public enum SVGCharts {
    static let palette = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2"]

    /// A grouped bar chart with a value label on each bar.
    public static func bars(_ chart: BarChart, width: Double = 640, height: Double = 320) -> String {
        let left = 56.0, right = 16.0, top = 36.0, bottom = 64.0
        let plotW = width - left - right, plotH = height - top - bottom
        let maxValue = max(chart.values.flatMap { $0 }.max() ?? 0, 1e-12)
        let groupW = plotW / Double(max(chart.groups.count, 1))
        let barW = groupW * 0.8 / Double(max(chart.series.count, 1))
        var svg = header(width, height, chart.title)
        svg += axis(left: left, top: top, plotW: plotW, plotH: plotH, maxValue: maxValue)
        for (g, group) in chart.groups.enumerated() {
            for (s, value) in chart.values[g].enumerated() {
                let h = plotH * value / maxValue
                let x = left + Double(g) * groupW + groupW * 0.1 + Double(s) * barW
                svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\"/>\n",
                              x, top + plotH - h, barW * 0.92, h, palette[s % palette.count])
                svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%@</text>\n",
                              x + barW * 0.46, top + plotH - h - 3, format(value))
            }
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">%@</text>\n",
                          left + Double(g) * groupW + groupW / 2, top + plotH + 18, escape(group))
        }
        svg += legend(chart.series, x: left, y: height - 18)
        return svg + "</svg>\n"
    }

    /// A line chart of one or more series.
    public static func lines(_ chart: LineChart, width: Double = 640, height: Double = 320) -> String {
        let left = 56.0, right = 16.0, top = 36.0, bottom = 64.0
        let plotW = width - left - right, plotH = height - top - bottom
        let points = chart.series.flatMap(\.points)
        let xs = points.map { $0[0] }, ys = points.map { $0[1] }
        let (x0, x1) = (xs.min() ?? 0, max(xs.max() ?? 1, (xs.min() ?? 0) + 1e-12))
        let (y0, y1) = (min(ys.min() ?? 0, 0), max(ys.max() ?? 1, 1e-12))
        var svg = header(width, height, chart.title)
        svg += axis(left: left, top: top, plotW: plotW, plotH: plotH, maxValue: y1, minValue: y0)
        for (s, series) in chart.series.enumerated() {
            let path = series.points.map { p in
                String(format: "%.1f,%.1f", left + plotW * (p[0] - x0) / (x1 - x0), top + plotH - plotH * (p[1] - y0) / (y1 - y0))
            }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(palette[s % palette.count])\" stroke-width=\"1.8\" points=\"\(path)\"/>\n"
        }
        for i in 0...4 {
            let value = x0 + (x1 - x0) * Double(i) / 4
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%@</text>\n",
                          left + plotW * Double(i) / 4, top + plotH + 14, format(value))
        }
        svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%@</text>\n",
                      left + plotW / 2, top + plotH + 32, escape(chart.xLabel))
        svg += legend(chart.series.map(\.name), x: left, y: height - 14)
        return svg + "</svg>\n"
    }

    private static func header(_ width: Double, _ height: Double, _ title: String) -> String {
        String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" role=\"img\">\n", width, height, width, height)
            + "<title>\(escape(title))</title>\n<text x=\"\(Int(width / 2))\" y=\"20\" font-size=\"14\" text-anchor=\"middle\">\(escape(title))</text>\n"
    }

    private static func axis(left: Double, top: Double, plotW: Double, plotH: Double, maxValue: Double, minValue: Double = 0) -> String {
        var svg = String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", left, top + plotH, left + plotW, top + plotH)
        svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", left, top, left, top + plotH)
        for i in 0...4 {
            let value = minValue + (maxValue - minValue) * Double(i) / 4
            let y = top + plotH - plotH * Double(i) / 4
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%@</text>\n", left - 4, y + 3, format(value))
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left, y, left + plotW, y)
        }
        return svg
    }

    private static func legend(_ names: [String], x: Double, y: Double) -> String {
        var svg = ""
        var offset = x
        for (i, name) in names.enumerated() {
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%@\"/>\n", offset, y - 9, palette[i % palette.count])
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%@</text>\n", offset + 14, y, escape(name))
            offset += 24 + Double(name.count) * 7
        }
        return svg
    }

    static func format(_ v: Double) -> String {
        abs(v) >= 100 ? String(format: "%.0f", v) : abs(v) >= 1 ? String(format: "%.2f", v) : String(format: "%.4f", v)
    }

    static func escape(_ s: String) -> String { HTMLEscaping.escape(s) }
}
