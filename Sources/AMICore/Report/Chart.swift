import Foundation

/// One series to draw: points in time order, each with the start and end of what it covers.
public struct ChartSeries: Sendable {
    public enum Style: String, Sendable { case line, bars }
    public var title: String
    public var unit: String?
    public var style: Style
    public var points: [(start: Int64, end: Int64, value: ExactAmount)]
}

/// SVG charts, written by hand (SVG 1.1, valid XML): axes, exact tick labels, the series as a line
/// or bars, and the largest value marked with its exact figure. Coordinates are floating point;
/// every number printed is exact (ami-report(1), chart).
public enum SVGChart {
    static let width = 800.0, height = 400.0
    static let left = 100.0, right = 20.0, top = 40.0, bottom = 60.0

    public static func render(_ s: ChartSeries) -> String {
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">

            """
        out += "<title>\(escape(s.title))</title>\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(Int(width))\" height=\"\(Int(height))\" fill=\"white\"/>\n"
        out += "<text x=\"\(fmt(width / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">\(escape(s.title))</text>\n"
        guard let first = s.points.first, let last = s.points.last else {
            out += "<text x=\"\(fmt(width / 2))\" y=\"\(fmt(height / 2))\" text-anchor=\"middle\">no data</text>\n</svg>\n"
            return out
        }
        let values = s.points.map(\.value)
        let ticks = Ticks(low: min(values.min()!, .zero), high: max(values.max()!, .zero))
        let t0 = Double(first.start), t1 = Double(last.end)
        let plotW = width - left - right, plotH = height - top - bottom
        func x(_ t: Int64) -> Double { left + (Double(t) - t0) / max(t1 - t0, 1) * plotW }
        func y(_ v: ExactAmount) -> Double { top + plotH - (approximate(v) - ticks.lowValue) / (ticks.highValue - ticks.lowValue) * plotH }

        // Grid and y labels.
        out += "<g stroke=\"#dddddd\" stroke-width=\"1\">\n"
        for t in ticks.values { out += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(y(t)))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(y(t)))\"/>\n" }
        out += "</g>\n<g text-anchor=\"end\">\n"
        for t in ticks.values { out += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(y(t) + 4))\">\(t)</text>\n" }
        out += "</g>\n"
        if let u = s.unit {
            out += "<text x=\"16\" y=\"\(fmt(top + plotH / 2))\" transform=\"rotate(-90 16 \(fmt(top + plotH / 2)))\" "
                + "text-anchor=\"middle\">\(escape(u))</text>\n"
        }
        // The series.
        switch s.style {
        case .line:
            let pts = s.points.map { "\(fmt(x($0.end))),\(fmt(y($0.value)))" }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"\(pts)\"/>\n"
        case .bars:
            out += "<g fill=\"#1f77b4\">\n"
            let zero = y(.zero)
            for p in s.points {
                let x0 = x(p.start), w = max(x(p.end) - x0 - 1, 0.5), yv = y(p.value)
                out += "<rect x=\"\(fmt(x0 + 0.5))\" y=\"\(fmt(min(yv, zero)))\" width=\"\(fmt(w))\" height=\"\(fmt(abs(zero - yv)))\"/>\n"
            }
            out += "</g>\n"
        }
        // Axes, x labels (UTC) and the largest value.
        out += "<g stroke=\"black\" stroke-width=\"1\">\n"
        out += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(top))\" x2=\"\(fmt(left))\" y2=\"\(fmt(top + plotH))\"/>\n"
        out += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(y(.zero)))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(y(.zero)))\"/>\n"
        out += "</g>\n"
        let mid = s.points[s.points.count / 2]
        let labels: [(Int64, String)] = [(first.start, "start"), (mid.start, "middle"), (last.end, "end")]
        for (t, anchor) in labels {
            let a = anchor == "start" ? "start" : anchor == "end" ? "end" : "middle"
            out += "<text x=\"\(fmt(x(t)))\" y=\"\(fmt(height - bottom + 18))\" text-anchor=\"\(a)\">\(UTCTime(milliseconds: t))</text>\n"
        }
        let peak = s.points.firstIndex { $0.value == values.max()! }!
        let p = s.points[peak]
        let px = s.style == .line ? x(p.end) : (x(p.start) + x(p.end)) / 2
        out += "<circle cx=\"\(fmt(px))\" cy=\"\(fmt(y(p.value)))\" r=\"3\" fill=\"#d62728\"/>\n"
        out += "<text x=\"\(fmt(width - right))\" y=\"\(fmt(height - 12))\" text-anchor=\"end\">peak \(p.value)"
            + (s.unit.map { " " + escape($0) } ?? "") + " at \(UTCTime(milliseconds: p.end))</text>\n"
        out += "</svg>\n"
        return out
    }

    /// Tick marks at whole multiples of a step of 1, 2 or 5 × 10^k: about five between `low` and `high`.
    struct Ticks {
        var values: [ExactAmount] = []
        var lowValue: Double { approximate(values.first!) }
        var highValue: Double { approximate(values.last!) }

        init(low: ExactAmount, high: ExactAmount) {
            let span = max(approximate(high) - approximate(low), 0)
            var k = span > 0 ? Int((log10(span / 5)).rounded(.down)) : min(low.scale, high.scale)
            var step = ExactAmount(units: 1, scale: k)
            search: while true {
                for m in [1, 2, 5] {
                    step = ExactAmount(units: Int128(m), scale: k)
                    if approximate(step) * 5 >= span { break search }
                }
                k += 1
            }
            let s = min(step.scale, low.scale, high.scale)
            let unit = step.at(scale: s) ?? 1
            let lo = floorDiv(low.at(scale: s) ?? 0, unit), hi = -floorDiv(-(high.at(scale: s) ?? 0), unit)
            for n in lo...max(hi, lo + 1) { values.append(ExactAmount(units: n * Int128(step.units), scale: step.scale)) }
        }

        private func floorDiv(_ a: Int128, _ b: Int128) -> Int128 {
            let q = a / b
            return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
        }
    }

    /// A floating-point approximation, for coordinates only.
    static func approximate(_ a: ExactAmount) -> Double { Double(a.units) * pow(10, Double(a.scale)) }

    static func fmt(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}

extension ReportContext {
    /// The one series a chart draws: `load-profile` (summed intervals, a line) or `consumption` (per
    /// period, bars). The selection must hold exactly one group, quantity and unit.
    public func chartSeries(kind: String) throws -> ChartSeries {
        var series: [ChartSeries] = []
        // What `all` stands for in a title: the meters or the node selected.
        let selection = scope.filter.meters.isEmpty ? scope.filter.node ?? "all meters" : scope.filter.meters.joined(separator: ", ")
        func name(_ group: String?) -> String { group == "all" ? selection : group ?? "no \(scope.by)" }
        switch kind {
        case "load-profile":
            for p in try profiles() {
                let points = p.values.keys.sorted().map { (start: $0 - p.interval * 1000, end: $0, value: p.values[$0]!) }
                series.append(ChartSeries(title: "\(p.quantity), \(name(p.group)), \(p.interval) s intervals",
                                          unit: p.unit, style: .line, points: points))
            }
        case "consumption":
            let rows = try consumption()
            let keys = rows.map { [$0["group"]!.cell, $0["quantity"]!.cell, $0["unit"]!.cell] }
            var seen: [[String]] = []
            for k in keys where !seen.contains(k) { seen.append(k) }
            for k in seen {
                let mine = rows.filter { [$0["group"]!.cell, $0["quantity"]!.cell, $0["unit"]!.cell] == k }
                let points = mine.compactMap { r -> (start: Int64, end: Int64, value: ExactAmount)? in
                    guard case .time(let s)? = r["start"], case .time(let e)? = r["end"], case .amount(let v)? = r["value"] else { return nil }
                    return (s.milliseconds, e.milliseconds, v)
                }
                series.append(ChartSeries(title: "\(k[1]) by \(scope.period.rawValue), \(name(k[0] == "-" ? nil : k[0]))", unit: k[2] == "-" ? nil : k[2],
                                          style: .bars, points: points))
            }
        default:
            throw ReportError("chart kind is load-profile or consumption, not \"\(kind)\"")
        }
        guard series.count == 1 else {
            throw ReportError(series.isEmpty ? "nothing to chart: the selection has no \(kind) data"
                : "the selection holds \(series.count) series (\(series.map(\.title).joined(separator: "; "))); "
                    + "narrow it with --meter, --node, --quantity or --by")
        }
        return series[0]
    }
}
