// The host's copy of one flow engine's state (wire::FlowParseState): the templates and sampling
// rates the kernel keeps in its own memory (device memory on a card), which the host never reads.
// It is kept from the kernel's change items alone (wire/flow_store_change.hpp), applied in stream
// order, so at every item it equals the engine's state as the kernel was at that point; plus the
// templates restored from disk before the first batch, which the backend uploads once.
//
// It names a record's fields (slot and generation), says whether a held set's template is known,
// and is what the template file saves.
#pragma once

#include <cstdint>
#include <memory>

#include "wire/flow_store_change.hpp"
#include "wire/flow_template.hpp"
#include "wire/ingest_batch.hpp"

namespace tapsift::flow {

class TemplateMirror {
  public:
    TemplateMirror();

    // What apply() made of an item.
    enum class Applied : uint8_t {
        kApplied,
        // Not an item the kernel can write (slot outside the key's set, span outside the
        // datagram, a template record the kernel's parser does not read as the item says...): a
        // device fault. The slot it names, if any, is marked unknown.
        kInvalid,
        // Well formed, but the mirror did not hold what the item says the kernel held (an item
        // was missed or mangled earlier). Applied; a slot the mirror cannot rebuild is marked
        // unknown, so its records are named by their core fields only (counted), never misnamed.
        kOutOfStep,
    };
    // One change item, in stream order, with the datagram it came from and its payload.
    Applied apply(const wire::FlowStoreChange &c, const wire::IngestRecordHeader &datagram,
                  const uint8_t *payload);
    // A record decoded with the template in slot (of that generation), from a datagram that
    // arrived at arrival_ns: the template's last use, which eviction after a restore goes by.
    // (The kernel also counts a data set that yielded no record item: used_ns here may be older
    // than the engine's, never newer.)
    void note_use(uint16_t slot, uint32_t generation, int64_t arrival_ns);

    // The template a record item names, or nullptr when the mirror does not hold that generation
    // in that slot.
    const wire::FlowTemplate *find(uint16_t slot, uint32_t generation) const;
    // When the template in slot (of that generation) was defined (learned or replaced); its
    // refreshes since do not count. For one restored from disk: its last refresh before.
    int64_t defined_ns(uint16_t slot, uint32_t generation) const;
    // Whether the engine holds a template for the key (a held set can go through again).
    bool knows(const uint8_t exporter[16], uint32_t domain, uint16_t template_id) const;

    // Everything, as the engine holds it: saved to the template file, uploaded at start.
    const wire::FlowParseState &state() const { return *state_; }
    // Before the first batch only: where restored templates go (then upload state()).
    wire::FlowParseState &state_before_first_batch() { return *state_; }

  private:
    Applied apply_definition(const wire::FlowStoreChange &c,
                             const wire::IngestRecordHeader &datagram, const uint8_t *payload);
    Applied apply_options(const wire::FlowStoreChange &c);
    void mark_unknown(uint16_t slot);

    std::unique_ptr<wire::FlowParseState> state_;
    // Per slot: the generation defined last through apply() and when.
    struct Definition {
        uint32_t generation = 0;
        int64_t at_ns = 0;
    };
    std::unique_ptr<Definition[]> defined_;
};

}  // namespace tapsift::flow
