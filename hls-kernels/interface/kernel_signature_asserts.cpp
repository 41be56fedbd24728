// Ties the generated signature table (kernels.json) to the kernels' real C++ signatures: the
// build fails when an argument is added, removed, reordered or changes size on either side.
// XRT 2.13 does not check scalar sizes in xrt::run::set_arg (it copies min(declared, given)
// bytes), so this is where a size drift is caught.
#include <cstdint>
#include <iterator>
#include <tuple>
#include <type_traits>
#include <utility>

#include "flow_sift/flow_sift.hpp"
#include "kernel_signatures.hpp"
#include "syslog_sift/syslog_sift.hpp"

namespace tapsift::kernel_interface {
namespace {

template <typename F>
struct Params;
template <typename R, typename... A>
struct Params<R (*)(A...)> {
    using type = std::tuple<A...>;
};

// What XRT sees: a pointer is a buffer passed as its 64-bit device address; anything else is a
// scalar of its own size.
template <typename T>
constexpr bool matches(const ArgSignature &a) {
    if constexpr (std::is_pointer_v<T>) return a.kind == ArgKind::kBuffer && a.size == 8;
    return a.kind == ArgKind::kScalar && a.size == sizeof(T);
}

template <typename Tuple, size_t... I>
constexpr bool all_match(const KernelSignature &k, std::index_sequence<I...>) {
    return k.arg_count == sizeof...(I) &&
           (matches<std::tuple_element_t<I, Tuple>>(k.args[I]) && ...);
}

// By index, not find_kernel's pointer: under -fsanitize GCC does not fold a pointer's comparison
// with nullptr in a constant expression.
constexpr size_t index_of(std::string_view name) {
    for (size_t i = 0; i < std::size(kKernels); ++i)
        if (name == kKernels[i].name) return i;
    return std::size(kKernels);
}

template <auto Fn>
constexpr bool signature_matches(size_t i) {
    using Tuple = typename Params<decltype(Fn)>::type;
    return i < std::size(kKernels) &&
           all_match<Tuple>(kKernels[i], std::make_index_sequence<std::tuple_size_v<Tuple>>{});
}

static_assert(signature_matches<&hls_kernels::syslog_sift>(index_of("syslog_sift")),
              "kernels.json's syslog_sift arguments differ from hls_kernels::syslog_sift");
static_assert(signature_matches<&hls_kernels::flow_sift>(index_of("flow_sift")),
              "kernels.json's flow_sift arguments differ from hls_kernels::flow_sift");
static_assert(sizeof(hls_kernels::FlowParseConfig) == 8, "flow_sift's config scalar is 8 bytes");
static_assert(std::size(kKernels) == 2, "a new kernel needs its signature check here");

}  // namespace
}  // namespace tapsift::kernel_interface
