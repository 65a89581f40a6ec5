"""The fitted weights of the offline answerer (:mod:`rag.answerer`): which sentence answers, and
whether the articles answer at all.

Both models are logistic and were fitted by ``bench/fit_answerer.py`` on the SQuAD v1.1 dev
questions of articles 00-23 only (articles 24-47 are held out for ``bench/answers_squad.py``);
nothing is fitted to single questions.

**Sentence scorer** (listwise softmax over a question's candidate sentences, ListNet top-1, Cao
et al. 2007; label: the sentence holds a gold answer). Features of a candidate sentence s of
passage p for question q:

============  ======================================================================================
feature       meaning
============  ======================================================================================
cos           cos(q, s), MiniLM sentence vectors
cos_gap       cos minus the best cos among the candidates
cov           IDF-weighted share of q's terms found in s
cov_gap       cov minus the best cov among the candidates
ctx_cov       cov of s together with its neighbouring sentences in p
bigram        share of q's adjacent term pairs adjacent in s
p_score       p's retrieval score (second-stage probability)
p_rr          1 / p's rank
p_dense       cos(q, p)
first         s is p's first sentence
rel_pos       s's position in p, 0 (first) .. 1 (last)
nb_cos        max cos(q, neighbour of s)
type_ok       q expects an answer type (rag.qtypes) and s holds an entity of that type named neither in q
              nor in p's title (the topic is not the answer)
type_miss     q expects a type and s holds none
is_question   s ends with "?" (judged by its content like any other sentence, not dropped)
no_verb       s holds no verb (a fragment or stub; table rows excepted)
log_words     log(1 + words in s)
cov_x_type    cov * type_ok
============  ======================================================================================

**Answerability** (binary logistic; label: answerable SQuAD question vs. the same kind of question
asked of an index without its gold paragraph, keeping only those whose answer appears nowhere else:
near-topic unanswerables). Features of the question's candidates:

==============  ====================================================================================
feature         meaning
==============  ====================================================================================
best_logit      the sentence scorer's logit of the lead sentence
best_cos        cos of the lead sentence
best_cov        cov of the lead sentence
max_cov         best cov among all candidates
top_dense       cos(q, top passage)
top_score       retrieval score of the top passage
typed           q expects an answer type
typed_found     q expects a type and the lead sentence holds one (type_ok)
typed_any       q expects a type and some candidate holds one
miss            highest IDF of a question term absent from every retrieved passage (and title), / max IDF
miss_lead       the same, absent from the lead sentence, the one it needs before it, and its title
typed_cov       best cov among the candidates that hold the expected type
max_bigram      best bigram among the candidates
cov_x_found     best_cov * typed_found
rare_lead       IDF²-weighted share of q's terms found in the lead sentence, its context and title
share_miss      share of q's terms (unweighted) missing there
margin          top passage's retrieval score minus the second's
ent_near        1 / (1 + words between the lead's typed entity and the nearest question term)
proper_found    share of q's names and numbers (capitalised words inside q, digits) found in some
                retrieved passage (1 when q has none)
prefix_miss     share_miss with terms matched on their first 5 letters (a paraphrase's other form of
                the word is not a miss)
why             q asks "why"
cos_second_gap  best cos minus the second best among the candidates
cos_z           the lead's cos in standard deviations above the candidates' mean
max_specific    best IDF-weighted share, over the candidates, of q's terms not in the candidate's
                article title found in the sentence (the specific words, not the topic)
miss_top        number of q's terms absent from the top passage and its title
==============  ====================================================================================

The last seven were chosen by greedy forward selection among 39 candidates
(``bench/_cv_select.py``), cross-validated by article on articles 00-23 (4 folds of 6 articles,
``bench/cv_answerer.py``); nonlinear models (gradient-boosted trees, a small MLP) did no better
out of fold and were not kept.

:data:`REFUSE_BELOW` is the answerability probability under which the answer is a refusal, chosen
on articles 00-23 for a false-refusal rate of at most 2 %.
"""
from __future__ import annotations

import numpy as np

FEATURES = ("cos", "cos_gap", "cov", "cov_gap", "ctx_cov", "bigram", "p_score", "p_rr", "p_dense",
            "first", "rel_pos", "nb_cos", "type_ok", "type_miss", "is_question", "no_verb", "log_words",
            "cov_x_type")
#: Fitted by bench/fit_answerer.py on SQuAD articles 00-23 (see the module docstring).
WEIGHTS = np.array([2.3491, 2.3491, 1.9761, 1.9761, 3.2520, 0.8351, 1.9427, 0.6638, 3.2010, -0.2634, 0.1180, -0.3455, 1.0986, -1.0986, -0.0282, 0.0000, 0.0324, -0.1157], dtype=np.float64)

A_FEATURES = ("best_logit", "best_cos", "best_cov", "max_cov", "top_dense", "top_score", "typed",
              "typed_found", "typed_any", "miss", "miss_lead", "typed_cov", "max_bigram", "cov_x_found",
              "rare_lead", "share_miss", "margin", "ent_near", "proper_found", "prefix_miss", "why", "cos_second_gap",
              "cos_z", "max_specific", "miss_top")
A_WEIGHTS = np.array([0.3694, 2.8510, -1.0920, -0.2763, -0.7181, 1.7325, 0.0730, 0.0543, 0.0368, 0.0966, 0.2461, -0.5151, 0.5713, 0.4875, 0.1928, 0.7289, -0.0514, -0.2379, 1.9344, -1.7220, -0.5003, 1.8620, -0.1186, 1.7346, -0.0775], dtype=np.float64)
A_BIAS = -7.2138
#: Answerability probability under which the offline answer is a refusal (RAG_REFUSE_BELOW).
REFUSE_BELOW = 0.107
#: A sentence holding the answer type the lead lacks is added only when its logit is within this
#: margin of the lead's (and it shares a question term): e^-2, about 7 times less likely, is still
#: a contender; further down it is filler.
ADD_MARGIN = 2.0
