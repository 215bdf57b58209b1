#include "proof/field/fr.h"

#include "proof/field/prime_field_impl.h"

namespace rustorium::proof {

template class PrimeField<FrParams>;

}  // namespace rustorium::proof
