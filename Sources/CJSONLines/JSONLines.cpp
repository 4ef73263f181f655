// simdjson On-Demand scanning of Amazon Reviews 2018 records behind the C interface in CJSONLines.h.
// Each document's object is walked once, in file order; fields the reader does not keep are skipped
// by simdjson without being decoded.

#include "CJSONLines.h"

#include <cstring>
#include <new>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

using namespace simdjson;

struct cjl_parser {
    ondemand::parser parser;
};

/// Open addressing with linear probing. A slot keeps the hash, the id and the first
/// `kInline` bytes of its string, so identifiers up to that length (ASINs have 10 bytes, reviewer
/// ids 12–21) are matched without touching the arena where the strings live.
struct cjl_interner {
    static constexpr size_t kInline = 16;
    struct Slot {
        uint64_t hash;
        int32_t id;  // -1 when empty
        uint32_t length;
        char prefix[kInline];
    };
    std::vector<Slot> slots = std::vector<Slot>(1 << 14, empty_slot());
    std::vector<char> arena;
    std::vector<size_t> offsets;  // offsets[id] ..< offsets[id + 1] in arena

    cjl_interner() { offsets.push_back(0); }

    static Slot empty_slot() {
        Slot slot{};
        slot.id = -1;
        return slot;
    }

    size_t count() const { return offsets.size() - 1; }

    /// Sizes an empty table for about `expected` strings, so it does not grow (and rehash) on the way.
    void reserve(size_t expected) {
        if (count() != 0) return;
        size_t want = 1024;
        while (want < expected * 2) want <<= 1;
        if (want > slots.size()) slots.assign(want, empty_slot());
        offsets.reserve(expected + 1);
    }

    std::string_view string(int32_t id) const {
        return std::string_view(arena.data() + offsets[id], offsets[id + 1] - offsets[id]);
    }

    bool matches(const Slot &slot, uint64_t h, std::string_view s) const {
        if (slot.hash != h || slot.length != s.size()) return false;
        size_t head = s.size() < kInline ? s.size() : kInline;
        if (std::memcmp(slot.prefix, s.data(), head) != 0) return false;
        return s.size() <= kInline || string(slot.id) == s;
    }

    static uint64_t hash(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

    /// Starts loading the slot where `h` will be looked up, so the lookup itself does not wait for memory.
    void prefetch(uint64_t h) const { __builtin_prefetch(&slots[h & (slots.size() - 1)]); }

    int32_t intern(std::string_view s) { return intern(s, hash(s)); }

    int32_t intern(std::string_view s, uint64_t h) {
        size_t mask = slots.size() - 1;
        for (size_t i = h & mask;; i = (i + 1) & mask) {
            Slot &slot = slots[i];
            if (slot.id < 0) {
                int32_t id = static_cast<int32_t>(count());
                slot.hash = h;
                slot.id = id;
                slot.length = static_cast<uint32_t>(s.size());
                std::memcpy(slot.prefix, s.data(), s.size() < kInline ? s.size() : kInline);
                arena.insert(arena.end(), s.begin(), s.end());
                offsets.push_back(arena.size());
                if (count() * 2 > slots.size()) grow();
                return id;
            }
            if (matches(slot, h, s)) return slot.id;
        }
    }

    void grow() {
        std::vector<Slot> old(slots.size() * 2, empty_slot());
        old.swap(slots);
        size_t mask = slots.size() - 1;
        for (const Slot &slot : old) {
            if (slot.id < 0) continue;
            size_t i = slot.hash & mask;
            while (slots[i].id >= 0) i = (i + 1) & mask;
            slots[i] = slot;
        }
    }
};

namespace {

constexpr uint64_t kHashMix = 0x9E3779B97F4A7C15ull;

inline cjl_string view(std::string_view s) { return cjl_string{s.data(), s.size()}; }

inline cjl_status fail(cjl_error *error, cjl_status status, const char *field, error_code code) {
    if (error) {
        error->field = field;
        error->detail = error_message(code);
    }
    return status;
}

/// A failing value read becomes a type error when simdjson says the type is wrong, a syntax error otherwise.
inline cjl_status value_failure(cjl_error *error, const char *field, error_code code) {
    return fail(error, code == INCORRECT_TYPE || code == NUMBER_OUT_OF_RANGE ? CJL_WRONG_TYPE : CJL_SYNTAX, field, code);
}

inline error_code open_object(ondemand::parser &parser, const char *line, size_t length, size_t capacity,
                              ondemand::document &doc, ondemand::object &object) {
    auto error = parser.iterate(padded_string_view(line, length, capacity)).get(doc);
    if (error) return error;
    return doc.get_object().get(object);
}

/// After the object has been walked, anything but whitespace left on the line is an error: the
/// document then still has a current location instead of reporting OUT_OF_BOUNDS.
inline error_code check_end(ondemand::document &doc) {
    const char *location;
    return doc.current_location().get(location) == OUT_OF_BOUNDS ? SUCCESS : TRAILING_CONTENT;
}

}  // namespace

extern "C" {

size_t cjl_required_padding(void) { return SIMDJSON_PADDING; }

cjl_parser *cjl_parser_create(void) { return new (std::nothrow) cjl_parser(); }

void cjl_parser_destroy(cjl_parser *parser) { delete parser; }

cjl_interner *cjl_interner_create(void) { return new (std::nothrow) cjl_interner(); }

void cjl_interner_destroy(cjl_interner *interner) { delete interner; }

int32_t cjl_intern(cjl_interner *interner, const char *data, size_t length) {
    return interner->intern(std::string_view(data, length));
}

size_t cjl_interner_count(const cjl_interner *interner) { return interner->count(); }

void cjl_interner_reserve(cjl_interner *interner, size_t expected) { interner->reserve(expected); }

void cjl_interner_merge(cjl_interner *into, const cjl_interner *from, int32_t *map) {
    // Walk `from` in id order (first-seen order); its slots already hold each string's hash.
    std::vector<uint64_t> hashes(from->count());
    for (const auto &slot : from->slots) {
        if (slot.id >= 0) hashes[slot.id] = slot.hash;
    }
    constexpr size_t kAhead = 16;  // slots requested this many strings ahead of the lookup
    for (size_t id = 0; id < from->count(); id++) {
        if (id + kAhead < hashes.size()) into->prefetch(hashes[id + kAhead]);
        map[id] = into->intern(from->string(static_cast<int32_t>(id)), hashes[id]);
    }
}

cjl_string cjl_interner_string(const cjl_interner *interner, int32_t id) { return view(interner->string(id)); }

}  // extern "C"

namespace {

/// The shard of a hash: its high half, so the slot index (low bits) stays independent of it.
inline size_t shard_of(uint64_t hash, size_t shards) { return shards == 1 ? 0 : (hash >> 32) % shards; }

/// Interns into the shard the hash picks; returns `local * shards + shard`.
inline int32_t intern_sharded(cjl_interner *const *tables, size_t shards, std::string_view s, uint64_t h, bool *is_new) {
    size_t shard = shard_of(h, shards);
    size_t before = tables[shard]->count();
    int32_t local = tables[shard]->intern(s, h);
    if (is_new) *is_new = tables[shard]->count() > before;
    return static_cast<int32_t>(local * static_cast<int64_t>(shards) + static_cast<int64_t>(shard));
}

/// Walks one review object: the fields kept are read, the rest skipped. The identifiers are handed
/// back as views (valid until the parser's next document) for the caller to intern.
template <typename Document>
cjl_status walk_review(Document &doc, cjl_interner *const *users, cjl_interner *const *items, size_t shards,
                       cjl_review *out, std::string_view &user, uint64_t &user_hash, std::string_view &asin,
                       uint64_t &asin_hash, cjl_error *error) {
    ondemand::object object;
    if (auto code = doc.get_object().get(object)) return fail(error, CJL_SYNTAX, nullptr, code);
    enum : unsigned { kUser = 1, kAsin = 2, kTime = 4, kOverall = 8 };
    unsigned seen = 0;
    uint64_t text_hash = 0, summary_hash = 0;
    for (auto field_result : object) {
        ondemand::field field;
        if (auto code = std::move(field_result).get(field)) return fail(error, CJL_SYNTAX, nullptr, code);
        ondemand::raw_json_string key = field.key();
        if (key == "reviewerID") {
            if (auto code = field.value().get_string().get(user)) return value_failure(error, "reviewerID", code);
            user_hash = cjl_interner::hash(user);
            users[shard_of(user_hash, shards)]->prefetch(user_hash);
            seen |= kUser;
        } else if (key == "asin") {
            if (auto code = field.value().get_string().get(asin)) return value_failure(error, "asin", code);
            asin_hash = cjl_interner::hash(asin);
            items[shard_of(asin_hash, shards)]->prefetch(asin_hash);
            seen |= kAsin;
        } else if (key == "unixReviewTime") {
            int64_t t;
            if (auto code = field.value().get_int64().get(t)) return value_failure(error, "unixReviewTime", code);
            out->unix_review_time = t;
            seen |= kTime;
        } else if (key == "overall") {
            double r;
            if (auto code = field.value().get_double().get(r)) return value_failure(error, "overall", code);
            out->overall = r;
            seen |= kOverall;
        } else if (key == "reviewText") {
            std::string_view text;
            if (auto code = field.value().get_string().get(text)) return value_failure(error, "reviewText", code);
            text_hash = XXH3_64bits(text.data(), text.size());
        } else if (key == "summary") {
            std::string_view text;
            if (auto code = field.value().get_string().get(text)) return value_failure(error, "summary", code);
            summary_hash = XXH3_64bits(text.data(), text.size());
        }
    }
    if (!(seen & kUser)) return fail(error, CJL_MISSING_FIELD, "reviewerID", NO_SUCH_FIELD);
    if (!(seen & kAsin)) return fail(error, CJL_MISSING_FIELD, "asin", NO_SUCH_FIELD);
    if (!(seen & kTime)) return fail(error, CJL_MISSING_FIELD, "unixReviewTime", NO_SUCH_FIELD);
    if (!(seen & kOverall)) return fail(error, CJL_MISSING_FIELD, "overall", NO_SUCH_FIELD);
    out->text_hash = text_hash ^ (summary_hash * kHashMix + 0x632BE59BD9B4E019ull);
    return CJL_OK;
}

}  // namespace

extern "C" {

cjl_status cjl_parse_review(cjl_parser *p, const char *line, size_t length, size_t capacity,
                            cjl_interner *const *users, cjl_interner *const *items, size_t shards, cjl_review *out,
                            cjl_error *error) {
    ondemand::document doc;
    if (auto code = p->parser.iterate(padded_string_view(line, length, capacity)).get(doc)) {
        return fail(error, CJL_SYNTAX, nullptr, code);
    }
    std::string_view user, asin;
    uint64_t user_hash = 0, asin_hash = 0;
    cjl_status status = walk_review(doc, users, items, shards, out, user, user_hash, asin, asin_hash, error);
    if (status != CJL_OK) return status;
    if (auto code = check_end(doc)) return fail(error, CJL_SYNTAX, nullptr, code);
    bool item_is_new = false;
    out->user = intern_sharded(users, shards, user, user_hash, nullptr);
    out->item = intern_sharded(items, shards, asin, asin_hash, &item_is_new);
    out->item_is_new = item_is_new ? 1 : 0;
    return CJL_OK;
}

cjl_status cjl_parse_meta(cjl_parser *p, const char *line, size_t length, size_t capacity, cjl_meta *out,
                          cjl_error *error) {
    ondemand::document doc;
    ondemand::object object;
    if (auto code = open_object(p->parser, line, length, capacity, doc, object)) {
        return fail(error, CJL_SYNTAX, nullptr, code);
    }
    bool has_asin = false;
    out->has_title = out->has_brand = out->has_price = 0;
    out->category_count = 0;
    for (auto field_result : object) {
        ondemand::field field;
        if (auto code = std::move(field_result).get(field)) return fail(error, CJL_SYNTAX, nullptr, code);
        ondemand::raw_json_string key = field.key();
        if (key == "asin") {
            std::string_view s;
            if (auto code = field.value().get_string().get(s)) return value_failure(error, "asin", code);
            out->asin = view(s);
            has_asin = true;
        } else if (key == "title" || key == "brand" || key == "price") {
            // Optional text fields: a value of another JSON type (the dump has a few) counts as absent.
            ondemand::value value = field.value();
            ondemand::json_type type;
            if (auto code = value.type().get(type)) return fail(error, CJL_SYNTAX, nullptr, code);
            if (type != ondemand::json_type::string) continue;
            std::string_view s;
            if (auto code = value.get_string().get(s)) return fail(error, CJL_SYNTAX, nullptr, code);
            if (key == "title") { out->title = view(s); out->has_title = 1; }
            else if (key == "brand") { out->brand = view(s); out->has_brand = 1; }
            else { out->price = view(s); out->has_price = 1; }
        } else if (key == "category") {
            ondemand::value value = field.value();
            ondemand::json_type type;
            if (auto code = value.type().get(type)) return fail(error, CJL_SYNTAX, nullptr, code);
            if (type != ondemand::json_type::array) continue;
            ondemand::array array;
            if (auto code = value.get_array().get(array)) return fail(error, CJL_SYNTAX, nullptr, code);
            for (auto element_result : array) {
                ondemand::value element;
                if (auto code = std::move(element_result).get(element)) return fail(error, CJL_SYNTAX, nullptr, code);
                ondemand::json_type element_type;
                if (auto code = element.type().get(element_type)) return fail(error, CJL_SYNTAX, nullptr, code);
                if (element_type != ondemand::json_type::string) continue;
                std::string_view s;
                if (auto code = element.get_string().get(s)) return fail(error, CJL_SYNTAX, nullptr, code);
                if (out->category_count < CJL_MAX_CATEGORIES) out->categories[out->category_count] = view(s);
                out->category_count++;
            }
        }
    }
    if (auto code = check_end(doc)) return fail(error, CJL_SYNTAX, nullptr, code);
    if (!has_asin) return fail(error, CJL_MISSING_FIELD, "asin", NO_SUCH_FIELD);
    if (out->category_count > CJL_MAX_CATEGORIES) out->category_count = CJL_MAX_CATEGORIES;
    return CJL_OK;
}

}  // extern "C"
