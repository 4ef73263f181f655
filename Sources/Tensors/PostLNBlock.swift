import Support

/// One post-LN transformer encoder block (BERT's, and RecBole's SASRec and BERT4Rec): multi-head
/// attention over packed sequences (attention dropout) → projection → dropout → residual → layer
/// norm; feed-forward (GELU) → dropout → residual → layer norm. Its tensors are named under a
/// prefix as `shapes(prefix:hidden:inner:)` lists them; linear weights are (in, out), the query,
/// key and value projections one (C, 3C) matrix.
public struct PostLNBlock {
    public let qkvWeight, qkvBias, outWeight, outBias, attentionNormWeight, attentionNormBias: Variable
    public let upWeight, upBias, downWeight, downBias, ffnNormWeight, ffnNormBias: Variable

    /// What differs between the models that use the block.
    public struct Settings {
        public var heads: Int
        public var causal: Bool
        public var layerNormEpsilon: Float
        public var gelu: GELUForm
        public var hiddenDropout: Float
        public var attentionDropout: Float

        public init(heads: Int, causal: Bool, layerNormEpsilon: Float = LayerNorm.epsilon, gelu: GELUForm, hiddenDropout: Float, attentionDropout: Float) {
            self.heads = heads
            self.causal = causal
            self.layerNormEpsilon = layerNormEpsilon
            self.gelu = gelu
            self.hiddenDropout = hiddenDropout
            self.attentionDropout = attentionDropout
        }
    }

    /// The block's tensors under `prefix` (e.g. `layers.0.`) with their shapes.
    public static func shapes(prefix p: String, hidden c: Int, inner: Int) -> [String: [Int]] {
        [
            p + "attention.qkv.weight": [c, 3 * c], p + "attention.qkv.bias": [3 * c],
            p + "attention.out.weight": [c, c], p + "attention.out.bias": [c],
            p + "attention.ln.weight": [c], p + "attention.ln.bias": [c],
            p + "ffn.up.weight": [c, inner], p + "ffn.up.bias": [inner],
            p + "ffn.down.weight": [inner, c], p + "ffn.down.bias": [c],
            p + "ffn.ln.weight": [c], p + "ffn.ln.bias": [c],
        ]
    }

    /// Typed views of the block's tensors under `prefix` in `set`.
    public init(_ set: ParameterSet, prefix p: String) {
        let v = set.required
        qkvWeight = v(p + "attention.qkv.weight")
        qkvBias = v(p + "attention.qkv.bias")
        outWeight = v(p + "attention.out.weight")
        outBias = v(p + "attention.out.bias")
        attentionNormWeight = v(p + "attention.ln.weight")
        attentionNormBias = v(p + "attention.ln.bias")
        upWeight = v(p + "ffn.up.weight")
        upBias = v(p + "ffn.up.bias")
        downWeight = v(p + "ffn.down.weight")
        downBias = v(p + "ffn.down.bias")
        ffnNormWeight = v(p + "ffn.ln.weight")
        ffnNormBias = v(p + "ffn.ln.bias")
    }

    /// Records the block over packed rows `x` (N, C) whose sequence `s` owns rows
    /// `offsets[s]..<offsets[s + 1]`. `dropout` draws one mask seed per dropout site (training);
    /// nil is inference.
    public func forward(_ tape: Tape, _ x: Variable, offsets: [Int], settings s: Settings, dropout: inout SeededRandom?) -> Variable {
        func drop(_ x: Variable) -> Variable {
            guard s.hiddenDropout > 0, dropout != nil else { return x }
            return Ops.dropout(tape, x, mask: DropoutMask(probability: s.hiddenDropout, seed: dropout!.next()))
        }
        let qkv = Ops.linear(tape, x, weight: qkvWeight, bias: qkvBias)
        let attentionMask: DropoutMask? =
            dropout != nil && s.attentionDropout > 0 ? DropoutMask(probability: s.attentionDropout, seed: dropout!.next()) : nil
        let attended = Ops.packedAttention(tape, qkv, offsets: offsets, causal: s.causal, heads: s.heads, dropout: attentionMask)
        let projected = drop(Ops.linear(tape, attended, weight: outWeight, bias: outBias))
        let h = Ops.layerNorm(tape, Ops.add(tape, x, projected), weight: attentionNormWeight, bias: attentionNormBias, epsilon: s.layerNormEpsilon)
        let up = Ops.gelu(tape, Ops.linear(tape, h, weight: upWeight, bias: upBias), form: s.gelu)
        let down = drop(Ops.linear(tape, up, weight: downWeight, bias: downBias))
        return Ops.layerNorm(tape, Ops.add(tape, h, down), weight: ffnNormWeight, bias: ffnNormBias, epsilon: s.layerNormEpsilon)
    }
}
