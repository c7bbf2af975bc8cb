// Shared by the vi tests: whether this is a sanitizer build. Statistical tests run far shorter
// there (every small allocation of the tape costs ~30x under ASan) and keep only the checks whose
// tolerances follow from the run length; the Release suite runs them in full.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define DIFFVI_VI_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DIFFVI_VI_TEST_SANITIZED 1
#endif
#endif

namespace vitest {

#ifdef DIFFVI_VI_TEST_SANITIZED
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// `full` in Release builds, `reduced` under sanitizers.
template <class T>
constexpr T scaled(T full, T reduced) {
  return kSanitized ? reduced : full;
}

}  // namespace vitest
