import Foundation

/// Memory whose end is followed by an inaccessible page: bytes copied to the end of it are followed
/// by exactly the padding asked for, so a parser reading one byte further faults at once. (ASan does
/// not see reads inside a system library such as libsimdjson; the page does.)
public final class FencedBuffer {
    private var region: UnsafeMutableRawPointer?
    private var usable = 0
    private let page = Int(sysconf(Int32(_SC_PAGESIZE)))

    public init() {}

    deinit { unmap() }

    /// Calls `body` with a copy of `bytes` followed by `padding` zero bytes and then the fence.
    public func withCopy<R>(
        of bytes: UnsafeRawBufferPointer, padding: Int, _ body: (UnsafePointer<UInt8>, Int) throws -> R
    ) rethrows -> R {
        let needed = bytes.count + padding
        if needed > usable { map(atLeast: needed) }
        let start = region! + (usable - needed)
        if !bytes.isEmpty { start.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        (start + bytes.count).initializeMemory(as: UInt8.self, repeating: 0, count: padding)
        return try body(UnsafePointer(start.assumingMemoryBound(to: UInt8.self)), bytes.count)
    }

    private func map(atLeast bytes: Int) {
        unmap()
        let pages = (bytes + page - 1) / page
        let total = (pages + 1) * page
        guard let mapped = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mapped != MAP_FAILED
        else { fatalError("cannot map \(total) bytes") }
        expect(mprotect(mapped + pages * page, page, PROT_NONE) == 0, "cannot protect the fence page")
        region = mapped
        usable = pages * page
    }

    private func unmap() {
        if let region { munmap(region, usable + page) }
        region = nil
        usable = 0
    }
}
