import ArgumentParser

/// `--budget`: one word that sizes a command for a quick test (`tiny`), a run of minutes on a laptop
/// (`default`) or a long run (`full`). What it means for each command is this one table; an explicit
/// option (`--steps`, `--users`, `--max-users`, `--max-epochs`, …) always wins over it.
///
/// | what                                          | tiny | default | full   |
/// |-----------------------------------------------|-----:|--------:|-------:|
/// | `synth`: simulated users                      |  300 |   2,000 | 20,000 |
/// | `lm train`: optimisation steps                |   20 |     600 |  6,000 |
/// | `train --stage 0`: optimisation steps         |   20 |     400 |  6,000 |
/// | `train --stage 1/2`: optimisation steps       |   20 |     300 |  5,000 |
/// | … from a pretrained Llama-family model        |   20 |     150 |  2,500 |
/// | `train --stage 1/2`: validation users         |   32 |     256 |  1,024 |
/// | `recommend`, `evaluate`, `baseline`: users    |   50 |     500 |    all |
/// | `baseline sasrec/bert4rec`: most epochs       |    2 |      50 |    200 |
/// | `baseline recformer`: most epochs             |    1 |       3 |     16 |
enum Budget: String, ExpressibleByArgument, CaseIterable, Sendable {
    case tiny, `default`, full

    /// `synth`: users simulated before the 5-core filter.
    var synthesizedUsers: Int { pick(300, 2000, 20_000) }

    /// `lm train`: optimisation steps.
    var languageModelSteps: Int { pick(20, 600, 6000) }

    /// `train`: optimisation steps of a stage (0: the catalogue language model; 1, 2: CALRec). A
    /// pretrained Llama-family backbone (SmolLM2-135M: 100× the parameters of the embedded GPT-2)
    /// gets half the steps, so that `default` stays about an hour on a 2-core CPU.
    func trainingSteps(stage: Int, pretrainedLlama: Bool = false) -> Int {
        if stage == 0 { return pick(20, 400, 6000) }
        return pretrainedLlama ? pick(20, 150, 2500) : pick(20, 300, 5000)
    }

    /// `train --stage 1/2`: users whose validation loss selects the checkpoint.
    var validationUsers: Int { pick(32, 256, 1024) }

    /// Commands that evaluate: how many users (nil: every user).
    var evaluatedUsers: Int? { pick(50, 500, nil) }

    /// `baseline sasrec/bert4rec`: most epochs (early stopping usually ends training sooner).
    var sequentialEpochs: Int { pick(2, 50, 200) }

    /// `baseline recformer`: most epochs (the authors' default is 16; each epoch re-encodes the
    /// catalogue and reads every user's history as text).
    var recformerEpochs: Int { pick(1, 3, 16) }

    private func pick<T>(_ tiny: T, _ normal: T, _ full: T) -> T {
        switch self {
        case .tiny: return tiny
        case .default: return normal
        case .full: return full
        }
    }
}
