"""``gradlab.distributions``: probability distributions with torch's names and methods (``sample``, ``rsample``,
``log_prob``, ``entropy``, ``mean``, ``variance``), differentiable in their parameters as torch's.

>>> import gradlab
>>> from gradlab.distributions import Categorical, Normal
>>> m = Categorical(probs=gradlab.tensor([0.25, 0.75]))
>>> round(m.log_prob(gradlab.tensor(1)).item(), 4), round(Normal(0.0, 1.0).entropy().item(), 4)
(-0.2877, 1.4189)
"""
from gradlab.distributions.bernoulli import Bernoulli
from gradlab.distributions.categorical import Categorical
from gradlab.distributions.distribution import Distribution
from gradlab.distributions.normal import Normal

__all__ = ["Distribution", "Categorical", "Bernoulli", "Normal"]
