/// A table value that renders to aligned text, GitHub Markdown or HTML.
public struct Table: Sendable, Equatable, Codable {
    public enum Alignment: String, Sendable, Equatable, Codable { case left, right }

    public struct Column: Sendable, Equatable, Codable {
        public var title: String
        public var alignment: Alignment

        public init(_ title: String, alignment: Alignment = .right) {
            self.title = title
            self.alignment = alignment
        }
    }

    /// One cell: its text, and whether it is emphasised (bold), as the paper marks the best result.
    public struct Cell: Sendable, Equatable, Codable, ExpressibleByStringLiteral {
        public var text: String
        public var bold: Bool

        public init(_ text: String, bold: Bool = false) {
            self.text = text
            self.bold = bold
        }

        public init(stringLiteral value: String) { self.init(value) }
    }

    public var caption: String?
    public var columns: [Column]
    public var rows: [[Cell]]

    public init(caption: String? = nil, columns: [Column], rows: [[Cell]] = []) {
        self.caption = caption
        self.columns = columns
        self.rows = rows
    }

    /// Appends a row; it must have one cell per column.
    public mutating func append(_ row: [Cell]) {
        precondition(row.count == columns.count, "a row needs \(columns.count) cells, got \(row.count)")
        rows.append(row)
    }
}
