/*
 * CJSONLines — a small C interface over simdjson's On-Demand API for the two record shapes of the
 * Amazon Reviews 2018 dump (reviews and item metadata). One call parses one JSON document (one line).
 *
 * Strings handed back are views into the parser's own buffer: they stay valid until the next call on
 * the same parser, so the caller copies what it keeps. Unknown fields are skipped without being
 * materialised, which is where the speed comes from.
 */
#ifndef CJSONLINES_H
#define CJSONLINES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Bytes that must be readable after the end of a line passed in (simdjson's padding).
size_t cjl_required_padding(void);

/// A borrowed UTF-8 string (not NUL-terminated).
typedef struct {
    const char *data;
    size_t length;
} cjl_string;

/// Outcome of one parse call.
typedef enum {
    CJL_OK = 0,
    /// The line is not a well-formed JSON object.
    CJL_SYNTAX = 1,
    /// A required field is absent; `cjl_error.field` names it.
    CJL_MISSING_FIELD = 2,
    /// A field has a JSON type the reader cannot use; `cjl_error.field` names it.
    CJL_WRONG_TYPE = 3
} cjl_status;

typedef struct {
    /// The field concerned (a static string), or NULL for a syntax error.
    const char *field;
    /// simdjson's description of the failure (a static string).
    const char *detail;
} cjl_error;

/// Maps strings to dense ids (0, 1, 2, … in first-seen order) and keeps one copy of each.
typedef struct cjl_interner cjl_interner;

cjl_interner *cjl_interner_create(void);
void cjl_interner_destroy(cjl_interner *interner);
/// The id of `data[0..<length]`, adding it if new.
int32_t cjl_intern(cjl_interner *interner, const char *data, size_t length);
/// Sizes an empty interner for about `expected` strings (a hint; it still grows past it).
void cjl_interner_reserve(cjl_interner *interner, size_t expected);
/// Number of distinct strings.
size_t cjl_interner_count(const cjl_interner *interner);
/// Interns every string of `from`, in id order, into `into`; `map[id]` receives its id in `into`
/// (`map` holds `cjl_interner_count(from)` entries).
void cjl_interner_merge(cjl_interner *into, const cjl_interner *from, int32_t *map);
/// The string with id `id` (valid until the interner is destroyed or grows).
cjl_string cjl_interner_string(const cjl_interner *interner, int32_t id);

/// The fields of one review that the reader keeps, with user and item interned. With S shards, an
/// id is `local * S + shard`, where `shard` is picked from the string's hash and `local` is the
/// string's id in that shard's interner.
typedef struct {
    int32_t user;
    int32_t item;
    /// Whether the item was seen for the first time.
    int item_is_new;
    int64_t unix_review_time;
    double overall;
    /// 64-bit hash (XXH3) over the unescaped `reviewText` and `summary` (both empty when absent).
    uint64_t text_hash;
} cjl_review;

/// The metadata fields of one item that the reader keeps; absent strings have length 0 and
/// `has_*` false. At most `CJL_MAX_CATEGORIES` category entries are returned (the rest are counted).
#define CJL_MAX_CATEGORIES 32
typedef struct {
    cjl_string asin;
    cjl_string title;
    cjl_string brand;
    cjl_string price;
    int has_title, has_brand, has_price;
    size_t category_count;
    cjl_string categories[CJL_MAX_CATEGORIES];
} cjl_meta;

typedef struct cjl_parser cjl_parser;

cjl_parser *cjl_parser_create(void);
void cjl_parser_destroy(cjl_parser *parser);

/// Parses one review document. `capacity` is the number of readable bytes from `line` (at least
/// `length + cjl_required_padding()`).
/// `reviewerID` and `asin` are interned into one of `shards` interners each (`user_shards`,
/// `item_shards`), chosen by hash.
cjl_status cjl_parse_review(cjl_parser *parser, const char *line, size_t length, size_t capacity,
                            cjl_interner *const *user_shards, cjl_interner *const *item_shards, size_t shards,
                            cjl_review *out, cjl_error *error);

/// Parses one metadata document; only `asin` is required.
cjl_status cjl_parse_meta(cjl_parser *parser, const char *line, size_t length, size_t capacity,
                          cjl_meta *out, cjl_error *error);

#ifdef __cplusplus
}
#endif

#endif
