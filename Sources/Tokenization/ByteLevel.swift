/// GPT-2's byte-level alphabet: every byte 0…255 stands for one printable Unicode character, so any
/// UTF-8 text becomes a string of such characters and back without loss (Radford et al., 2019,
/// `bytes_to_unicode` in GPT-2's `encoder.py`). Printable Latin-1 bytes map to themselves; the
/// others (controls, space, …) to U+0100 onwards, in byte order.
public enum ByteLevel {
    /// byte → character
    public static let byteToCharacter: [Character] = {
        var printable = Array(33...126) + Array(161...172) + Array(174...255)
        var table = [Character](repeating: " ", count: 256)
        for b in printable { table[b] = Character(Unicode.Scalar(UInt8(b))) }
        var next = 256
        for b in 0..<256 where !printable.contains(b) {
            table[b] = Character(Unicode.Scalar(UInt32(next))!)
            next += 1
        }
        printable.removeAll()
        return table
    }()

    /// character → byte
    public static let characterToByte: [Character: UInt8] = {
        var map: [Character: UInt8] = [:]
        for (b, c) in byteToCharacter.enumerated() { map[c] = UInt8(b) }
        return map
    }()

    /// The characters GPT-2's vocabulary lists first, in its order: printable bytes, then the rest.
    public static let alphabetInVocabularyOrder: [Character] = {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        let rest = (0..<256).filter { !printable.contains($0) }
        return (printable + rest).map { byteToCharacter[$0] }
    }()

    /// The byte-level string of some UTF-8 bytes.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        String(bytes.map { byteToCharacter[Int($0)] })
    }

    /// The bytes a byte-level string stands for (characters outside the alphabet are dropped).
    public static func decode(_ text: String) -> [UInt8] {
        text.compactMap { characterToByte[$0] }
    }
}
